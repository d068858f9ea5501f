package io.lcowgd.ext4;

import java.util.ArrayList;
import java.util.List;

/** Names and bits of the ext4 feature flags the reader knows, and which incompatible ones it can read. */
public final class Ext4Features {
  private Ext4Features() {}

  /** {@code s_feature_compat} bits. */
  public static final int COMPAT_DIR_PREALLOC = 0x1;
  public static final int COMPAT_HAS_JOURNAL = 0x4;
  public static final int COMPAT_EXT_ATTR = 0x8;
  public static final int COMPAT_RESIZE_INODE = 0x10;
  public static final int COMPAT_DIR_INDEX = 0x20;
  public static final int COMPAT_SPARSE_SUPER2 = 0x200;

  /** {@code s_feature_incompat} bits. */
  public static final int INCOMPAT_COMPRESSION = 0x1;
  public static final int INCOMPAT_FILETYPE = 0x2;
  public static final int INCOMPAT_RECOVER = 0x4;
  public static final int INCOMPAT_JOURNAL_DEV = 0x8;
  public static final int INCOMPAT_META_BG = 0x10;
  public static final int INCOMPAT_EXTENTS = 0x40;
  public static final int INCOMPAT_64BIT = 0x80;
  public static final int INCOMPAT_MMP = 0x100;
  public static final int INCOMPAT_FLEX_BG = 0x200;
  public static final int INCOMPAT_EA_INODE = 0x400;
  public static final int INCOMPAT_DIRDATA = 0x1000;
  public static final int INCOMPAT_CSUM_SEED = 0x2000;
  public static final int INCOMPAT_LARGEDIR = 0x4000;
  public static final int INCOMPAT_INLINE_DATA = 0x8000;
  public static final int INCOMPAT_ENCRYPT = 0x10000;
  public static final int INCOMPAT_CASEFOLD = 0x20000;

  /** {@code s_feature_ro_compat} bits. */
  public static final int RO_COMPAT_HUGE_FILE = 0x8;
  public static final int RO_COMPAT_GDT_CSUM = 0x10;
  public static final int RO_COMPAT_METADATA_CSUM = 0x400;

  /** Incompatible features this reader understands; any other incompatible bit makes {@code open} fail. */
  static final int INCOMPAT_SUPPORTED = INCOMPAT_FILETYPE | INCOMPAT_RECOVER | INCOMPAT_EXTENTS | INCOMPAT_64BIT
      | INCOMPAT_MMP | INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | INCOMPAT_CSUM_SEED | INCOMPAT_LARGEDIR
      | INCOMPAT_INLINE_DATA | INCOMPAT_CASEFOLD | INCOMPAT_META_BG;

  private static final String[] COMPAT = {"dir_prealloc", "imagic_inodes", "has_journal", "ext_attr", "resize_inode",
      "dir_index", "lazy_bg", "exclude_inode", "exclude_bitmap", "sparse_super2", "fast_commit", "stable_inodes",
      "orphan_file"};
  private static final String[] INCOMPAT = {"compression", "filetype", "needs_recovery", "journal_dev", "meta_bg",
      null, "extent", "64bit", "mmp", "flex_bg", "ea_inode", null, "dirdata", "metadata_csum_seed", "large_dir",
      "inline_data", "encrypt", "casefold"};
  private static final String[] RO_COMPAT = {"sparse_super", "large_file", "btree_dir", "huge_file", "uninit_bg",
      "dir_nlink", "extra_isize", "has_snapshot", "quota", "bigalloc", "metadata_csum", "replica", "read-only",
      "project", "shared_blocks", "verity", "orphan_present"};

  /** The names of the set bits, in dumpe2fs's spelling; unknown bits appear as {@code FEATURE_<kind><bit>}. */
  public static List<String> names(int compat, int incompat, int roCompat) {
    List<String> out = new ArrayList<>();
    add(out, compat, COMPAT, "C");
    add(out, incompat, INCOMPAT, "I");
    add(out, roCompat, RO_COMPAT, "R");
    return out;
  }

  private static void add(List<String> out, int bits, String[] names, String kind) {
    for (int b = 0; b < 32; b++) {
      if ((bits & (1 << b)) != 0) {
        out.add(b < names.length && names[b] != null ? names[b] : "FEATURE_" + kind + b);
      }
    }
  }
}
