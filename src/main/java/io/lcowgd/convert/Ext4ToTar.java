package io.lcowgd.convert;

import io.lcowgd.ext4.DirEntry;
import io.lcowgd.ext4.Ext4Exception;
import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.ext4.Ext4Reader;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Streams an ext4 image as an uncompressed Docker layer tar, in constant memory apart from one directory listing per
 * level of the current path and the hard-link table.
 *
 * <p><b>Entry order</b> (stable): depth-first pre-order from the tree root (not itself written); the children of each
 * directory sorted bytewise by their on-disk name; a directory's entry comes before its contents, immediately followed
 * by its {@code .wh..wh..opq} marker when it is opaque; a whiteout {@code .wh.x} takes the place of {@code x}. Names
 * are relative ({@code etc/passwd}, directories with a trailing slash) and byte-exact: names that are not valid
 * UTF-8 are written as their raw bytes in the PAX {@code path} record, as Go's archive/tar does. What the tree is, and the whiteout, opaque,
 * xattr and hard-link translation, are described in {@link LayerView} and {@link LayerTarEmitter}.
 */
public final class Ext4ToTar {
  /** Bound on the directory entries listed along the current path, which bounds memory on hostile images. */
  static final long MAX_PENDING_ENTRIES = io.lcowgd.ext4.DirParser.MAX_ENTRIES;

  private Ext4ToTar() {}

  /**
   * Writes the tree of {@code image} selected by {@code mode} to {@code out} as a tar and returns the sum of its entry
   * sizes (the figure ApplyDiff reports for the same tar). {@code out} is flushed, not closed.
   */
  public static long export(Ext4Reader image, ExportMode mode, OutputStream out) throws IOException {
    LayerView view = new LayerView(image, mode);
    LayerTarEmitter emitter = LayerTarEmitter.buffered(out, true);
    Deque<Frame> stack = new ArrayDeque<>();
    Set<Long> seenDirs = new HashSet<>();
    Ext4Inode root = view.treeRoot();
    seenDirs.add(root.number());
    stack.push(new Frame("", view.children(root)));
    long pending = stack.peek().entries.size();
    while (!stack.isEmpty()) {
      Frame f = stack.peek();
      if (f.next == f.entries.size()) {
        pending -= f.entries.size();
        stack.pop();
        continue;
      }
      DirEntry e = f.entries.get(f.next++);
      String path = f.prefix + e.rawString();
      Ext4Inode ino;
      try {
        ino = image.inode(e.inode());
      } catch (Ext4Exception ex) {
        throw new Ext4Exception("/" + PaxTarWriter.display(path) + ": " + ex.getMessage(), ex);
      }
      emitter.emit(path, image, ino);
      if (ino.isDirectory()) {
        if (!seenDirs.add(ino.number())) {
          throw new Ext4Exception("/" + PaxTarWriter.display(path) + ": directory inode " + ino.number()
              + " is reachable twice (directory loop or hard-linked directory)");
        }
        Frame child = new Frame(path + "/", view.children(ino));
        pending += child.entries.size();
        if (pending > MAX_PENDING_ENTRIES) {
          throw new Ext4Exception("/" + PaxTarWriter.display(path) + ": more than " + MAX_PENDING_ENTRIES
              + " directory entries held along one path (hostile image?)");
        }
        stack.push(child);
      }
    }
    emitter.finish();
    return emitter.dataBytes();
  }

  private static final class Frame {
    final String prefix;
    final List<DirEntry> entries;
    int next;

    Frame(String prefix, List<DirEntry> entries) {
      this.prefix = prefix;
      this.entries = entries;
    }
  }
}
