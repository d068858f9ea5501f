package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Inode;
import java.util.HashMap;
import java.util.TreeMap;

/** One inode of the tree being built by {@link Ext4Writer} (in memory until the writer finishes). */
final class Node {
  final int ino;
  /** Full {@code i_mode} including the type bits. */
  int mode;
  long uid;
  long gid;
  long atime;
  long mtime;
  long ctime;
  long crtime;
  int atimeNs;
  int mtimeNs;
  int ctimeNs;
  int crtimeNs;
  /** Names referring to this inode (non-directories; directory counts are computed at the end). */
  int links;
  long size;
  /** First block of the contiguous data run, and its length in blocks (0 if none). */
  long dataStart;
  long dataBlocks;
  /** Extent tree blocks beyond the in-inode root, placed when the writer finishes. */
  long treeStart;
  int treeBlocks;
  /** Raw {@code i_block} for fast symlinks and devices; null for extent-mapped inodes. */
  byte[] iblock;
  TreeMap<String, byte[]> xattrs;
  /** Symlink target (symlinks only), kept to resolve symlinked parent directories. */
  String target;
  long xattrBlock;
  /** Children by name (directories only). */
  HashMap<String, Node> children;
  Node parent;

  Node(int ino, int mode) {
    this.ino = ino;
    this.mode = mode;
  }

  boolean isDir() {
    return (mode & Inode.S_IFMT) == Inode.S_IFDIR;
  }

  boolean isSymlink() {
    return (mode & Inode.S_IFMT) == Inode.S_IFLNK;
  }
}
