package io.lcowgd.convert;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * The overlay union of a chain of layer trees (nearest first), computed lazily per directory: in each directory the
 * highest layer that has a name decides it; a whiteout there deletes it; a non-directory hides every lower layer; a
 * directory merges with the same directory of lower layers until one of them is opaque or not a directory.
 */
final class Union<N> {
  /** One layer's file contributing to a union path. */
  record Contrib<N>(int layer, N node) {}

  /** One name of a union directory. */
  static final class Node<N> {
    final byte[] name;
    final int decidingLayer;
    final boolean deleted;
    final boolean dir;
    final List<Contrib<N>> contribs = new ArrayList<>(1);
    boolean closed;

    Node(byte[] name, int decidingLayer, boolean deleted, boolean dir) {
      this.name = name;
      this.decidingLayer = decidingLayer;
      this.deleted = deleted;
      this.dir = dir;
    }

    boolean exists() {
      return !deleted;
    }

    boolean isDir() {
      return dir;
    }

    Contrib<N> top() {
      return contribs.get(0);
    }

    /** Whether any layer below index {@code topCount} decides or contributes to this name. */
    boolean touchedBelow(int topCount) {
      return decidingLayer < topCount;
    }
  }

  private record Seen(int layer, long inode) {}

  private final List<? extends TreeView<N>> chain;
  private final Set<Seen> seen = new HashSet<>();

  Union(List<? extends TreeView<N>> chain) {
    this.chain = chain;
  }

  /** The view of layer {@code layer} of the chain. */
  TreeView<N> view(int layer) {
    return chain.get(layer);
  }

  /** The union root, or null for an empty chain. */
  Node<N> root() throws IOException {
    if (chain.isEmpty()) {
      return null;
    }
    Node<N> n = new Node<>(new byte[0], 0, false, true);
    for (int i = 0; i < chain.size() && !n.closed; i++) {
      N r = chain.get(i).treeRoot();
      n.contribs.add(new Contrib<>(i, r));
      n.closed = chain.get(i).isOpaque(r);
    }
    return n;
  }

  /** The names of directory node {@code dir}, bytewise sorted, including deletions; each call must be for a new dir. */
  TreeMap<byte[], Node<N>> children(Node<N> dir, String path) throws IOException {
    TreeMap<byte[], Node<N>> out = new TreeMap<>(Arrays::compareUnsigned);
    for (Contrib<N> c : dir.contribs) {
      TreeView<N> v = chain.get(c.layer());
      if (!seen.add(new Seen(c.layer(), v.inodeNumber(c.node())))) {
        throw new IOException(PaxTarWriter.display(path) + ": directory inode " + v.inodeNumber(c.node()) + " of layer "
            + c.layer() + " is reachable twice (directory loop)");
      }
      for (TreeView.Child<N> e : v.entries(c.node())) {
        byte[] name = e.rawName();
        Node<N> n = out.get(name);
        if (n != null && n.closed) {
          continue;
        }
        N node;
        try {
          node = e.node();
        } catch (IOException ex) {
          throw new IOException(PaxTarWriter.display(path) + new String(name, StandardCharsets.UTF_8) + " (layer "
              + c.layer() + "): " + ex.getMessage(), ex);
        }
        boolean isDir = v.isDirectory(node);
        if (n == null) {
          boolean whiteout = v.isWhiteout(node);
          n = new Node<>(name, c.layer(), whiteout, !whiteout && isDir);
          out.put(name, n);
          if (n.deleted) {
            n.closed = true;
          } else {
            n.contribs.add(new Contrib<>(c.layer(), node));
            n.closed = !isDir || v.isOpaque(node);
          }
        } else if (isDir) {
          n.contribs.add(new Contrib<>(c.layer(), node));
          n.closed = v.isOpaque(node);
        } else {
          n.closed = true;
        }
      }
    }
    return out;
  }
}
