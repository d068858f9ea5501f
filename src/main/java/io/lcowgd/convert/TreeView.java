package io.lcowgd.convert;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * One layer's tree as the overlay union and change rules ({@link LayerChanges}) read it, whatever it was read from:
 * an ext4 image ({@link LayerView}) or a guest's listing of one. {@code N} is the view's handle of one file; the
 * view answers every question about it, so a handle may be a parsed inode or a listing entry.
 *
 * <p>Whiteouts (0/0 character devices) and opaque directories ({@code trusted.overlay.opaque=y}) are part of the
 * tree; the union interprets them. Attributes follow {@code struct stat}: {@link #mode} includes the file type bits.
 */
public interface TreeView<N> {
  /** The file type bits of a mode ({@code S_IFMT}). */
  int S_IFMT = 0170000;
  /** Type bits of a directory. */
  int S_IFDIR = 0040000;
  /** Type bits of a regular file. */
  int S_IFREG = 0100000;
  /** Type bits of a symbolic link. */
  int S_IFLNK = 0120000;

  /** One name of a directory; its file is resolved only when asked for (a name hidden above is never read). */
  interface Child<N> {
    /** The name as raw bytes (never to be modified). */
    byte[] rawName();

    /** The file the name refers to. */
    N node() throws IOException;
  }

  /** The root directory of this layer's tree. */
  N treeRoot() throws IOException;

  /** The names of directory {@code dir} of this tree, each once, sorted bytewise. */
  List<? extends Child<N>> entries(N dir) throws IOException;

  /** Whether directory {@code dir} carries the overlay opaque marker {@code trusted.overlay.opaque=y}. */
  boolean isOpaque(N dir) throws IOException;

  /** Whether {@code node} is an overlay whiteout (a character device 0/0). */
  boolean isWhiteout(N node);

  /** The mode, file type bits included. */
  int mode(N node);

  long uid(N node);

  long gid(N node);

  /** The size in bytes (of a regular file: its content; of a directory: what the filesystem reports). */
  long size(N node);

  Instant mtime(N node);

  /** The link count. */
  long links(N node);

  /** The inode number: equal for two names of one hard-linked file of this tree, unique per directory. */
  long inodeNumber(N node);

  /** The target of symlink {@code link} as raw bytes. */
  byte[] linkTarget(N link) throws IOException;

  /** Whether {@code node} is a directory. */
  default boolean isDirectory(N node) {
    return (mode(node) & S_IFMT) == S_IFDIR;
  }

  /** Whether {@code node} is a regular file. */
  default boolean isRegular(N node) {
    return (mode(node) & S_IFMT) == S_IFREG;
  }

  /** Whether {@code node} is a symbolic link. */
  default boolean isSymlink(N node) {
    return (mode(node) & S_IFMT) == S_IFLNK;
  }
}
