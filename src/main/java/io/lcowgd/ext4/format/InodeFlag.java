package io.lcowgd.ext4.format;

/** Bits of an inode's {@code i_flags}. */
public enum InodeFlag implements Flag {
  SECRM(0x1),
  UNRM(0x2),
  COMPR(0x4),
  SYNC(0x8),
  IMMUTABLE(0x10),
  APPEND(0x20),
  NODUMP(0x40),
  NOATIME(0x80),
  DIRTY(0x100),
  COMPRBLK(0x200),
  NOCOMPR(0x400),
  ENCRYPT(0x800),
  INDEX(0x1000),
  IMAGIC(0x2000),
  JOURNAL_DATA(0x4000),
  NOTAIL(0x8000),
  DIRSYNC(0x10000),
  TOPDIR(0x20000),
  HUGE_FILE(0x40000),
  EXTENTS(0x80000),
  VERITY(0x100000),
  EA_INODE(0x200000),
  DAX(0x2000000),
  INLINE_DATA(0x10000000),
  PROJINHERIT(0x20000000),
  CASEFOLD(0x40000000);

  private final int mask;

  InodeFlag(int mask) {
    this.mask = mask;
  }

  @Override
  public int mask() {
    return mask;
  }
}
