package io.lcowgd.lcow;

import io.lcowgd.graphdriver.Change;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Changes and DiffSize of a sandbox against its parent chain computed from guest listings ({@link GuestListing}),
 * with exactly the rules of the host's {@link io.lcowgd.convert.LayerChanges} (moby's {@code pkg/archive/changes.go}
 * as adapted there): the new tree is the overlay union of the sandbox's tree (listing 0, complete) over the parent
 * chain (listings 1..n, nearest first), the old tree the union of the parent chain; only names the sandbox decides are
 * compared. Parent listings are probes: they hold, for every directory of the sandbox's tree, that directory's entries
 * in the layer; a union step that would need anything else fails instead of guessing.
 */
final class ListingChanges {
  private static final int MAX_DEPTH = 1024;

  private ListingChanges() {}

  /** The changes (sorted by raw path bytes, parents first) and their size (DiffSize). */
  record Result(List<Change> changes, long size) {}

  private record Item(String rawPath, Change.Kind kind, Node node) {}

  /** One name of a union directory: the layers contributing to it, topmost (deciding) first. */
  private static final class Node {
    final int decidingLayer;
    final boolean deleted;
    final List<Integer> layers = new ArrayList<>(1);
    final List<GuestListing.Entry> entries = new ArrayList<>(1);
    boolean closed;

    Node(int decidingLayer, boolean deleted) {
      this.decidingLayer = decidingLayer;
      this.deleted = deleted;
    }

    void add(int layer, GuestListing.Entry e) {
      layers.add(layer);
      entries.add(e);
    }

    boolean exists() {
      return !deleted;
    }

    boolean isDir() {
      return !deleted && entries.get(0).isDir();
    }

    GuestListing.Entry top() {
      return entries.get(0);
    }
  }

  /** Compares the sandbox tree {@code layers.get(0)} over {@code layers[1..]} with {@code layers[1..]}. */
  static Result compute(List<GuestListing> layers) throws IOException {
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("changes need the sandbox's listing");
    }
    Union n = new Union(layers, 0);
    Union o = new Union(layers, 1);
    List<Item> items = new ArrayList<>();
    new Walk(n, o, items).dir("", n.root(), o.root(), 0);
    items.sort((a, b) -> Arrays.compareUnsigned(a.rawPath.getBytes(StandardCharsets.ISO_8859_1),
        b.rawPath.getBytes(StandardCharsets.ISO_8859_1)));
    List<Change> changes = new ArrayList<>(items.size());
    long size = 0;
    Set<List<Long>> counted = new HashSet<>();
    for (Item i : items) {
      changes.add(new Change(GuestListing.display(i.rawPath), i.kind));
      if (i.node == null || !i.node.exists() || !i.node.top().isRegular()) {
        continue;
      }
      GuestListing.Entry e = i.node.top();
      if (e.links() > 1 && !counted.add(List.of((long) i.node.layers.get(0), e.inode()))) {
        continue;
      }
      size += e.size();
    }
    return new Result(changes, size);
  }

  /** The overlay union of {@code layers[first..]}, resolved directory by directory. */
  private static final class Union {
    final List<GuestListing> layers;
    final int first;
    final GuestListing top;

    Union(List<GuestListing> layers, int first) {
      this.layers = layers;
      this.first = first;
      this.top = layers.get(0);
    }

    Node root() throws IOException {
      if (first >= layers.size()) {
        return null;
      }
      Node n = new Node(first, false);
      for (int i = first; i < layers.size() && !n.closed; i++) {
        GuestListing.Entry r = layers.get(i).get("");
        if (!r.isDir()) {
          throw new IOException("guest listing of layer " + i + ": the tree root is not a directory");
        }
        n.add(i, r);
        n.closed = layers.get(i).isOpaque("");
      }
      return n;
    }

    /** The names of directory {@code dir} at {@code path}, bytewise sorted, deletions included. */
    TreeMap<byte[], Node> children(Node dir, String path) throws IOException {
      TreeMap<byte[], Node> out = new TreeMap<>(Arrays::compareUnsigned);
      for (int k = 0; k < dir.layers.size(); k++) {
        int layer = dir.layers.get(k);
        GuestListing l = layers.get(layer);
        if (layer > 0 && !probed(l, path)) {
          throw new IOException("guest listing of layer " + layer + " lacks the entries of directory /"
              + GuestListing.display(path));
        }
        for (String child : l.childPaths(path)) {
          GuestListing.Entry e = l.get(child);
          byte[] name = GuestListing.nameOf(child).getBytes(StandardCharsets.ISO_8859_1);
          if (l.wholeFs() && path.isEmpty() && child.equals("lost+found") && e.isDir()
              && l.childPaths(child).isEmpty()) {
            continue; // an empty lost+found at a filesystem root is ext4's, not layer content (LayerView)
          }
          Node n = out.get(name);
          if (n != null && n.closed) {
            continue;
          }
          if (n == null) {
            n = new Node(layer, e.isWhiteout());
            out.put(name, n);
            if (n.deleted) {
              n.closed = true;
            } else {
              n.add(layer, e);
              n.closed = !e.isDir() || l.isOpaque(child);
            }
          } else if (e.isDir()) {
            n.add(layer, e);
            n.closed = l.isOpaque(child);
          } else {
            n.closed = true;
          }
        }
      }
      return out;
    }

    /** Whether a parent layer's probe listed the entries of {@code path} (the lister's start points). */
    private boolean probed(GuestListing l, String path) {
      GuestListing.Entry t = top.get(path);
      return (t != null && t.isDir()) || (l.wholeFs() && path.equals("lost+found"));
    }
  }

  /** moby's comparison walk, as in LayerChanges.Walk. */
  private static final class Walk {
    final Union n;
    final Union o;
    final List<Item> items;

    Walk(Union n, Union o, List<Item> items) {
      this.n = n;
      this.o = o;
      this.items = items;
    }

    void dir(String path, Node nd, Node od, int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw new IOException("/" + GuestListing.display(path) + ": directories nested deeper than " + MAX_DEPTH);
      }
      TreeMap<byte[], Node> nc = n.children(nd, path);
      TreeMap<byte[], Node> oc = od == null ? new TreeMap<>(Arrays::compareUnsigned) : o.children(od, path);
      TreeMap<byte[], Boolean> names = new TreeMap<>(Arrays::compareUnsigned);
      for (Map.Entry<byte[], Node> e : nc.entrySet()) {
        if (e.getValue().decidingLayer == 0) {
          names.put(e.getKey(), Boolean.TRUE);
        }
      }
      for (byte[] k : oc.keySet()) {
        Node ne = nc.get(k);
        if (ne == null || ne.decidingLayer == 0) {
          names.put(k, Boolean.TRUE);
        }
      }
      for (byte[] name : names.keySet()) {
        Node ne = nc.get(name);
        Node oe = oc.get(name);
        boolean nx = ne != null && ne.exists();
        boolean ox = oe != null && oe.exists();
        String p = (path.isEmpty() ? "" : path + "/") + new String(name, StandardCharsets.ISO_8859_1);
        if (!nx && !ox) {
          continue;
        }
        int mark = items.size();
        boolean reported = true;
        if (!nx) {
          items.add(new Item("/" + p, Change.Kind.DELETE, null));
        } else if (!ox) {
          items.add(new Item("/" + p, Change.Kind.ADD, ne));
          if (ne.isDir()) {
            added(p, ne, depth + 1);
          }
        } else if (ne.isDir() && oe.isDir()) {
          reported = dirDiffers(ne.top(), oe.top());
          if (reported) {
            items.add(new Item("/" + p, Change.Kind.MODIFY, ne));
          }
          dir(p, ne, oe, depth + 1);
        } else if (sameSymlink(ne.top(), oe.top())) {
          reported = false;
        } else {
          items.add(new Item("/" + p, Change.Kind.MODIFY, ne));
          if (ne.isDir()) {
            added(p, ne, depth + 1);
          }
        }
        if (!reported && items.size() > mark) {
          items.add(mark, new Item("/" + p, Change.Kind.MODIFY, ne));
        }
      }
    }

    private void added(String path, Node nd, int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw new IOException("/" + GuestListing.display(path) + ": directories nested deeper than " + MAX_DEPTH);
      }
      for (Map.Entry<byte[], Node> e : n.children(nd, path).entrySet()) {
        Node c = e.getValue();
        if (!c.exists()) {
          continue;
        }
        String p = path + "/" + new String(e.getKey(), StandardCharsets.ISO_8859_1);
        items.add(new Item("/" + p, Change.Kind.ADD, c));
        if (c.isDir()) {
          added(p, c, depth + 1);
        }
      }
    }

    private static boolean dirDiffers(GuestListing.Entry a, GuestListing.Entry b) {
      return a.mode() != b.mode() || a.uid() != b.uid() || a.gid() != b.gid() || a.size() != b.size()
          || !a.mtime().equals(b.mtime());
    }

    private static boolean sameSymlink(GuestListing.Entry a, GuestListing.Entry b) {
      return a.isSymlink() && b.isSymlink() && a.mode() == b.mode() && a.uid() == b.uid() && a.gid() == b.gid()
          && Arrays.equals(a.target(), b.target());
    }
  }
}
