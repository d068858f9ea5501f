package io.lcowgd.ext4;

import io.lcowgd.ext4.format.CompatFeature;
import io.lcowgd.ext4.format.IncompatFeature;
import io.lcowgd.ext4.format.RoCompatFeature;
import java.util.ArrayList;
import java.util.List;

/**
 * Names and bits of the ext4 feature flags the reader knows (the bits are ext4.format's feature enums' masks), and
 * which incompatible ones it can read.
 */
public final class Ext4Features {
  private Ext4Features() {}

  /** {@code s_feature_compat} bits. */
  public static final int COMPAT_DIR_PREALLOC = CompatFeature.DIR_PREALLOC.mask();
  public static final int COMPAT_HAS_JOURNAL = CompatFeature.HAS_JOURNAL.mask();
  public static final int COMPAT_EXT_ATTR = CompatFeature.EXT_ATTR.mask();
  public static final int COMPAT_RESIZE_INODE = CompatFeature.RESIZE_INODE.mask();
  public static final int COMPAT_DIR_INDEX = CompatFeature.DIR_INDEX.mask();
  public static final int COMPAT_SPARSE_SUPER2 = CompatFeature.SPARSE_SUPER2.mask();

  /** {@code s_feature_incompat} bits. */
  public static final int INCOMPAT_COMPRESSION = IncompatFeature.COMPRESSION.mask();
  public static final int INCOMPAT_FILETYPE = IncompatFeature.FILETYPE.mask();
  public static final int INCOMPAT_RECOVER = IncompatFeature.RECOVER.mask();
  public static final int INCOMPAT_JOURNAL_DEV = IncompatFeature.JOURNAL_DEV.mask();
  public static final int INCOMPAT_META_BG = IncompatFeature.META_BG.mask();
  public static final int INCOMPAT_EXTENTS = IncompatFeature.EXTENTS.mask();
  public static final int INCOMPAT_64BIT = IncompatFeature.BIT64.mask();
  public static final int INCOMPAT_MMP = IncompatFeature.MMP.mask();
  public static final int INCOMPAT_FLEX_BG = IncompatFeature.FLEX_BG.mask();
  public static final int INCOMPAT_EA_INODE = IncompatFeature.EA_INODE.mask();
  public static final int INCOMPAT_DIRDATA = IncompatFeature.DIRDATA.mask();
  public static final int INCOMPAT_CSUM_SEED = IncompatFeature.CSUM_SEED.mask();
  public static final int INCOMPAT_LARGEDIR = IncompatFeature.LARGEDIR.mask();
  public static final int INCOMPAT_INLINE_DATA = IncompatFeature.INLINE_DATA.mask();
  public static final int INCOMPAT_ENCRYPT = IncompatFeature.ENCRYPT.mask();
  public static final int INCOMPAT_CASEFOLD = IncompatFeature.CASEFOLD.mask();

  /** {@code s_feature_ro_compat} bits. */
  public static final int RO_COMPAT_HUGE_FILE = RoCompatFeature.HUGE_FILE.mask();
  public static final int RO_COMPAT_GDT_CSUM = RoCompatFeature.GDT_CSUM.mask();
  public static final int RO_COMPAT_METADATA_CSUM = RoCompatFeature.METADATA_CSUM.mask();

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
