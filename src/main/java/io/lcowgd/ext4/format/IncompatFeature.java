package io.lcowgd.ext4.format;

/** Bits of {@code s_feature_incompat}: an implementation that does not know one of them must not mount the fs. */
public enum IncompatFeature implements Flag {
  COMPRESSION(0x1),
  FILETYPE(0x2),
  RECOVER(0x4),
  JOURNAL_DEV(0x8),
  META_BG(0x10),
  EXTENTS(0x40),
  BIT64(0x80),
  MMP(0x100),
  FLEX_BG(0x200),
  EA_INODE(0x400),
  DIRDATA(0x1000),
  CSUM_SEED(0x2000),
  LARGEDIR(0x4000),
  INLINE_DATA(0x8000),
  ENCRYPT(0x10000),
  CASEFOLD(0x20000);

  private final int mask;

  IncompatFeature(int mask) {
    this.mask = mask;
  }

  @Override
  public int mask() {
    return mask;
  }
}
