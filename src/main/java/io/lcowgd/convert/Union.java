package io.lcowgd.convert;

import io.lcowgd.ext4.DirEntry;
import io.lcowgd.ext4.Ext4Exception;
import io.lcowgd.ext4.Ext4Inode;
import java.io.IOException;
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
final class Union {
  /** One layer's inode contributing to a union path. */
  record Contrib(int layer, Ext4Inode inode) {}

  /** One name of a union directory. */
  static final class Node {
    final byte[] name;
    final int decidingLayer;
    final boolean deleted;
    final List<Contrib> contribs = new ArrayList<>(1);
    boolean closed;

    Node(byte[] name, int decidingLayer, boolean deleted) {
      this.name = name;
      this.decidingLayer = decidingLayer;
      this.deleted = deleted;
    }

    boolean exists() {
      return !deleted;
    }

    boolean isDir() {
      return !deleted && contribs.get(0).inode().isDirectory();
    }

    Contrib top() {
      return contribs.get(0);
    }

    /** Whether any layer below index {@code topCount} decides or contributes to this name. */
    boolean touchedBelow(int topCount) {
      return decidingLayer < topCount;
    }
  }

  private record Seen(int layer, long inode) {}

  private final List<LayerView> chain;
  private final Set<Seen> seen = new HashSet<>();

  Union(List<LayerView> chain) {
    this.chain = chain;
  }

  List<LayerView> chain() {
    return chain;
  }

  /** The union root, or null for an empty chain. */
  Node root() throws IOException {
    if (chain.isEmpty()) {
      return null;
    }
    Node n = new Node(new byte[0], 0, false);
    for (int i = 0; i < chain.size() && !n.closed; i++) {
      Ext4Inode r = chain.get(i).treeRoot();
      n.contribs.add(new Contrib(i, r));
      n.closed = chain.get(i).isOpaque(r);
    }
    return n;
  }

  /** The names of directory node {@code dir}, bytewise sorted, including deletions; each call must be for a new dir. */
  TreeMap<byte[], Node> children(Node dir, String path) throws IOException {
    TreeMap<byte[], Node> out = new TreeMap<>(Arrays::compareUnsigned);
    for (Contrib c : dir.contribs) {
      if (!seen.add(new Seen(c.layer(), c.inode().number()))) {
        throw new Ext4Exception(PaxTarWriter.display(path) + ": directory inode " + c.inode().number() + " of layer " + c.layer()
            + " is reachable twice (directory loop)");
      }
      LayerView v = chain.get(c.layer());
      for (DirEntry e : v.children(c.inode())) {
        Node n = out.get(e.rawName());
        if (n != null && n.closed) {
          continue;
        }
        Ext4Inode ino;
        try {
          ino = v.image().inode(e.inode());
        } catch (Ext4Exception ex) {
          throw new Ext4Exception(PaxTarWriter.display(path) + e.name() + " (layer " + c.layer() + "): " + ex.getMessage(), ex);
        }
        if (n == null) {
          n = new Node(e.rawName(), c.layer(), ino.isWhiteout());
          out.put(e.rawName(), n);
          if (n.deleted) {
            n.closed = true;
          } else {
            n.contribs.add(new Contrib(c.layer(), ino));
            n.closed = !ino.isDirectory() || v.isOpaque(ino);
          }
        } else if (ino.isDirectory()) {
          n.contribs.add(new Contrib(c.layer(), ino));
          n.closed = v.isOpaque(ino);
        } else {
          n.closed = true;
        }
      }
    }
    return out;
  }
}
