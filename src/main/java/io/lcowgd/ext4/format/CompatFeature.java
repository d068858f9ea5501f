package io.lcowgd.ext4.format;

/** Bits of {@code s_feature_compat}: features an implementation may ignore and still read and write safely. */
public enum CompatFeature implements Flag {
  DIR_PREALLOC(0x1),
  IMAGIC_INODES(0x2),
  HAS_JOURNAL(0x4),
  EXT_ATTR(0x8),
  RESIZE_INODE(0x10),
  DIR_INDEX(0x20),
  LAZY_BG(0x40),
  EXCLUDE_INODE(0x80),
  EXCLUDE_BITMAP(0x100),
  SPARSE_SUPER2(0x200),
  FAST_COMMIT(0x400),
  STABLE_INODES(0x800),
  ORPHAN_FILE(0x1000);

  private final int mask;

  CompatFeature(int mask) {
    this.mask = mask;
  }

  @Override
  public int mask() {
    return mask;
  }
}
