package io.lcowgd.convert;

import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.graphdriver.Change;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Changes and DiffSize of chains of layer trees ({@link TreeView}s: ext4 images read directly as {@link LayerView}s,
 * or a guest's listings of them as {@link ListingView}s), and squashed diffs of ext4 images; nothing is mounted.
 *
 * <p>The <em>new</em> tree is the union of {@code top} followed by {@code parentChain}; the <em>old</em> tree is the
 * union of {@code parentChain} (both nearest layer first; see {@link Union}). Only names some layer of {@code top}
 * decides are compared, with moby's rules ({@code pkg/archive/changes.go}):
 * <ul>
 *   <li>a name hidden by a whiteout or an opaque directory of {@code top} that exists in the old tree is a Delete
 *       (kind 2); a whiteout for a name the old tree lacks is not reported;</li>
 *   <li>a name the old tree lacks is an Add (kind 1), and so is everything below an added directory;</li>
 *   <li>a name present in both is a Modify (kind 0), except: two directories with equal mode, owner, size and mtime
 *       are not reported (their contents are still compared), and two symlinks with the same target, mode and owner
 *       are not reported (symlinks are compared by target, never by mtime);</li>
 *   <li>every directory other than {@code /} that contains a reported change and is not itself reported is reported
 *       as a Modify, listed before its children (moby's {@code addChanges}; this is why {@code docker diff} prints
 *       {@code C /etc} above {@code A /etc/x}).</li>
 * </ul>
 * Results are sorted by path as strings, as moby's {@code changesByPath} does, which keeps parents before children.
 */
public final class LayerChanges {
  private static final int MAX_DEPTH = 1024;

  private LayerChanges() {}

  /**
   * One reported change: its kind, its path as raw bytes (one char per byte, as in {@link Ext4ToTar}) and the union
   * node holding the new content (null for deletions).
   */
  private record Item<N>(String rawPath, Change.Kind kind, Union.Node<N> node) {
    Item(Change change, Union.Node<N> node) {
      this(change.path(), change.kind(), node);
    }

    Change change() {
      return new Change(PaxTarWriter.display(rawPath), kind);
    }
  }

  /** The changes of {@code top} (nearest first) against the union of {@code parentChain} (nearest first). */
  public static <N> List<Change> changes(List<? extends TreeView<N>> top, List<? extends TreeView<N>> parentChain)
      throws IOException {
    List<Change> out = new ArrayList<>();
    for (Item<N> i : compute(top, parentChain).items) {
      out.add(i.change());
    }
    return out;
  }

  /**
   * The bytes of the changes of {@code top} against {@code parentChain}: the sum of the sizes of the regular files
   * added or modified, each hard-linked inode counted once; directories, symlinks, devices and whiteouts count 0.
   * This equals the sum of tar entry sizes (what ApplyDiff reports) of {@link #writeDiffTar} for the same arguments
   * and, for a single layer against its parent, of {@link Ext4ToTar#export}. (moby's {@code ChangesSize} also counts
   * symlink target lengths; we do not, so that DiffSize equals the ApplyDiff size of the diff, as graphtest's
   * {@code DriverTestDiffApply} requires.)
   */
  public static <N> long diffSize(List<? extends TreeView<N>> top, List<? extends TreeView<N>> parentChain)
      throws IOException {
    Result<N> r = compute(top, parentChain);
    long size = 0;
    Set<Object> counted = new HashSet<>();
    for (Item<N> i : r.items) {
      if (i.node == null || !i.node.exists()) {
        continue;
      }
      Union.Contrib<N> c = i.node.top();
      TreeView<N> v = r.newTree.view(c.layer());
      N node = c.node();
      if (!v.isRegular(node)) {
        continue;
      }
      if (v.links(node) > 1 && !counted.add(List.of(c.layer(), v.inodeNumber(node)))) {
        continue;
      }
      size += v.size(node);
    }
    return size;
  }

  /**
   * Writes the changes of the union of {@code topChain} against the union of {@code baseChain} as a layer tar (for a
   * Diff against a non-immediate ancestor, e.g. {@code --squash}): in path order, each added or modified path with
   * its content read from the layer that owns it (directories as headers only, without opaque markers), and each
   * deletion as a whiteout {@code .wh.<name>} (mode 0600, owner 0:0, mtime 0). Returns the sum of the entry sizes,
   * which equals {@link #diffSize}. {@code out} is flushed, not closed.
   */
  public static long writeDiffTar(List<LayerView> topChain, List<LayerView> baseChain, OutputStream out)
      throws IOException {
    Result<Ext4Inode> r = compute(topChain, baseChain);
    List<LayerView> all = new ArrayList<>(topChain);
    all.addAll(baseChain);
    LayerTarEmitter em = LayerTarEmitter.buffered(out, false);
    for (Item<Ext4Inode> i : r.items) {
      String rel = i.rawPath.substring(1);
      if (i.kind == Change.Kind.DELETE) {
        em.whiteout(rel, 0, 0, Instant.EPOCH);
      } else {
        Union.Contrib<Ext4Inode> c = i.node.top();
        em.emit(rel, all.get(c.layer()).image(), c.node());
      }
    }
    em.finish();
    return em.dataBytes();
  }

  private static final class Result<N> {
    final Union<N> newTree;
    final List<Item<N>> items = new ArrayList<>();

    Result(Union<N> newTree) {
      this.newTree = newTree;
    }
  }

  private static <N> Result<N> compute(List<? extends TreeView<N>> top, List<? extends TreeView<N>> parentChain)
      throws IOException {
    if (top.isEmpty()) {
      throw new IllegalArgumentException("changes need at least one top layer");
    }
    List<TreeView<N>> all = new ArrayList<>(top);
    all.addAll(parentChain);
    Union<N> n = new Union<>(all);
    Union<N> o = new Union<>(parentChain);
    Result<N> r = new Result<>(n);
    try {
      new Walk<>(n, o, top.size(), r.items).dir("/", n.root(), o.root(), 0);
    } catch (StackOverflowError e) {
      throw new IOException("directory tree too deep to compare on this thread's stack", e);
    }
    r.items.sort((a, b) -> Arrays.compareUnsigned(a.rawPath.getBytes(StandardCharsets.ISO_8859_1),
        b.rawPath.getBytes(StandardCharsets.ISO_8859_1)));
    return r;
  }

  private static final class Walk<N> {
    final Union<N> n;
    final Union<N> o;
    final int topCount;
    final List<Item<N>> items;
    long held;

    Walk(Union<N> n, Union<N> o, int topCount, List<Item<N>> items) {
      this.n = n;
      this.o = o;
      this.topCount = topCount;
      this.items = items;
    }

    /** Compares directory {@code path} (ending in a slash) of both trees, appending the changes below it. */
    void dir(String path, Union.Node<N> nd, Union.Node<N> od, int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw new IOException(PaxTarWriter.display(path) + ": directories nested deeper than " + MAX_DEPTH);
      }
      TreeMap<byte[], Union.Node<N>> nc = n.children(nd, path);
      TreeMap<byte[], Union.Node<N>> oc = od == null ? new TreeMap<>(Arrays::compareUnsigned) : o.children(od, path);
      hold(path, nc.size() + oc.size());
      try {
        compare(path, nc, oc, depth);
      } finally {
        held -= nc.size() + oc.size();
      }
    }

    private void hold(String path, long n) throws IOException {
      held += n;
      if (held > Ext4ToTar.MAX_PENDING_ENTRIES) {
        throw new IOException(PaxTarWriter.display(path) + ": more than " + Ext4ToTar.MAX_PENDING_ENTRIES
            + " directory entries held along one path (hostile image?)");
      }
    }

    private void compare(String path, TreeMap<byte[], Union.Node<N>> nc, TreeMap<byte[], Union.Node<N>> oc, int depth)
        throws IOException {
      TreeMap<byte[], Boolean> names = new TreeMap<>(Arrays::compareUnsigned);
      for (Map.Entry<byte[], Union.Node<N>> e : nc.entrySet()) {
        if (e.getValue().touchedBelow(topCount)) {
          names.put(e.getKey(), Boolean.TRUE);
        }
      }
      for (byte[] k : oc.keySet()) {
        Union.Node<N> ne = nc.get(k);
        if (ne == null || ne.touchedBelow(topCount)) {
          names.put(k, Boolean.TRUE);
        }
      }
      for (byte[] name : names.keySet()) {
        Union.Node<N> ne = nc.get(name);
        Union.Node<N> oe = oc.get(name);
        boolean nx = ne != null && ne.exists();
        boolean ox = oe != null && oe.exists();
        String p = path + new String(name, StandardCharsets.ISO_8859_1);
        if (!nx && !ox) {
          continue;
        }
        int mark = items.size();
        boolean reported = true;
        if (!nx) {
          items.add(new Item<>(new Change(p, Change.Kind.DELETE), null));
        } else if (!ox) {
          items.add(new Item<>(new Change(p, Change.Kind.ADD), ne));
          if (ne.isDir()) {
            added(p + "/", ne, depth + 1);
          }
        } else if (ne.isDir() && oe.isDir()) {
          reported = dirDiffers(ne.top(), oe.top());
          if (reported) {
            items.add(new Item<>(new Change(p, Change.Kind.MODIFY), ne));
          }
          dir(p + "/", ne, oe, depth + 1);
        } else if (sameSymlink(ne, oe)) {
          reported = false;
        } else {
          items.add(new Item<>(new Change(p, Change.Kind.MODIFY), ne));
          if (ne.isDir()) {
            added(p + "/", ne, depth + 1);
          }
        }
        if (!reported && items.size() > mark) {
          items.add(mark, new Item<>(new Change(p, Change.Kind.MODIFY), ne));
        }
      }
    }

    private void added(String path, Union.Node<N> nd, int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw new IOException(PaxTarWriter.display(path) + ": directories nested deeper than " + MAX_DEPTH);
      }
      TreeMap<byte[], Union.Node<N>> kids = n.children(nd, path);
      hold(path, kids.size());
      try {
        addedChildren(path, kids, depth);
      } finally {
        held -= kids.size();
      }
    }

    private void addedChildren(String path, TreeMap<byte[], Union.Node<N>> kids, int depth) throws IOException {
      for (Map.Entry<byte[], Union.Node<N>> e : kids.entrySet()) {
        Union.Node<N> c = e.getValue();
        if (!c.exists()) {
          continue;
        }
        String p = path + new String(e.getKey(), StandardCharsets.ISO_8859_1);
        items.add(new Item<>(new Change(p, Change.Kind.ADD), c));
        if (c.isDir()) {
          added(p + "/", c, depth + 1);
        }
      }
    }

    private boolean dirDiffers(Union.Contrib<N> ca, Union.Contrib<N> cb) {
      TreeView<N> va = n.view(ca.layer());
      TreeView<N> vb = o.view(cb.layer());
      N a = ca.node();
      N b = cb.node();
      return va.mode(a) != vb.mode(b) || va.uid(a) != vb.uid(b) || va.gid(a) != vb.gid(b) || va.size(a) != vb.size(b)
          || !va.mtime(a).equals(vb.mtime(b));
    }

    private boolean sameSymlink(Union.Node<N> ne, Union.Node<N> oe) throws IOException {
      TreeView<N> va = n.view(ne.top().layer());
      TreeView<N> vb = o.view(oe.top().layer());
      N a = ne.top().node();
      N b = oe.top().node();
      if (!va.isSymlink(a) || !vb.isSymlink(b) || va.mode(a) != vb.mode(b) || va.uid(a) != vb.uid(b)
          || va.gid(a) != vb.gid(b)) {
        return false;
      }
      return Arrays.equals(va.linkTarget(a), vb.linkTarget(b));
    }
  }
}
