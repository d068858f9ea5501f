package io.lcowgd.ext4.format;

/** Bits of {@code s_feature_ro_compat}: an implementation that does not know one of them may only mount read-only. */
public enum RoCompatFeature implements Flag {
  SPARSE_SUPER(0x1),
  LARGE_FILE(0x2),
  BTREE_DIR(0x4),
  HUGE_FILE(0x8),
  GDT_CSUM(0x10),
  DIR_NLINK(0x20),
  EXTRA_ISIZE(0x40),
  HAS_SNAPSHOT(0x80),
  QUOTA(0x100),
  BIGALLOC(0x200),
  METADATA_CSUM(0x400),
  REPLICA(0x800),
  READONLY(0x1000),
  PROJECT(0x2000),
  SHARED_BLOCKS(0x4000),
  VERITY(0x8000),
  ORPHAN_PRESENT(0x10000);

  private final int mask;

  RoCompatFeature(int mask) {
    this.mask = mask;
  }

  @Override
  public int mask() {
    return mask;
  }
}
