package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.util.EnumSet;

/**
 * An ext4 inode ({@code struct ext4_inode}): the 128-byte base plus the extra fields covered by
 * {@code i_extra_isize}.
 *
 * <p>{@code i_block} is kept as raw 60 bytes (an extent tree root, a fast symlink target, or device numbers). Bytes of
 * the on-disk inode past {@code 128 + i_extra_isize} (the in-inode xattr area) are not part of this record; see
 * {@link Xattr}. u16 fields are {@code int}, u32 fields {@code long} holding the unsigned value. Timestamps use the
 * ext4 encoding described in {@link Ext4Time}.
 */
public final class Inode {
  /** Size of the base (good old) inode. */
  public static final int BASE_SIZE = 128;
  /** Length of {@code i_block}. */
  public static final int I_BLOCK_LEN = 60;
  /** {@code i_extra_isize} covering every extra field through {@code i_projid}. */
  public static final int EXTRA_ISIZE_FULL = 32;

  /** File type bits of {@code i_mode}. */
  public static final int S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000, S_IFBLK = 0x6000,
      S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
  /** Permission and special bits of {@code i_mode}. */
  public static final int S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;

  /** Well-known inode numbers. */
  public static final int BAD_INO = 1, ROOT_INO = 2, USR_QUOTA_INO = 3, GRP_QUOTA_INO = 4, BOOT_LOADER_INO = 5,
      UNDEL_DIR_INO = 6, RESIZE_INO = 7, JOURNAL_INO = 8, GOOD_OLD_FIRST_INO = 11;

  public static final int I_MODE = 0x00;
  public static final int I_UID = 0x02;
  public static final int I_SIZE_LO = 0x04;
  public static final int I_ATIME = 0x08;
  public static final int I_CTIME = 0x0C;
  public static final int I_MTIME = 0x10;
  public static final int I_DTIME = 0x14;
  public static final int I_GID = 0x18;
  public static final int I_LINKS_COUNT = 0x1A;
  public static final int I_BLOCKS_LO = 0x1C;
  public static final int I_FLAGS = 0x20;
  public static final int I_VERSION = 0x24;
  public static final int I_BLOCK = 0x28;
  public static final int I_GENERATION = 0x64;
  public static final int I_FILE_ACL_LO = 0x68;
  public static final int I_SIZE_HIGH = 0x6C;
  public static final int I_OBSO_FADDR = 0x70;
  public static final int I_BLOCKS_HIGH = 0x74;
  public static final int I_FILE_ACL_HIGH = 0x76;
  public static final int I_UID_HIGH = 0x78;
  public static final int I_GID_HIGH = 0x7A;
  public static final int I_CHECKSUM_LO = 0x7C;
  public static final int I_RESERVED = 0x7E;
  public static final int I_EXTRA_ISIZE = 0x80;
  public static final int I_CHECKSUM_HI = 0x82;
  public static final int I_CTIME_EXTRA = 0x84;
  public static final int I_MTIME_EXTRA = 0x88;
  public static final int I_ATIME_EXTRA = 0x8C;
  public static final int I_CRTIME = 0x90;
  public static final int I_CRTIME_EXTRA = 0x94;
  public static final int I_VERSION_HI = 0x98;
  public static final int I_PROJID = 0x9C;

  public int mode;
  public int uid;
  public long sizeLo;
  public long atime;
  public long ctime;
  public long mtime;
  public long dtime;
  public int gid;
  public int linksCount;
  public long blocksLo;
  public long flags;
  public long version;
  /** {@code i_block}: 60 raw bytes. */
  public byte[] block = new byte[I_BLOCK_LEN];
  public long generation;
  public long fileAclLo;
  public long sizeHigh;
  public long obsoFaddr;
  public int blocksHigh;
  public int fileAclHigh;
  public int uidHigh;
  public int gidHigh;
  public int checksumLo;
  public int reserved;
  public int extraIsize;
  public int checksumHi;
  public long ctimeExtra;
  public long mtimeExtra;
  public long atimeExtra;
  public long crtime;
  public long crtimeExtra;
  public long versionHi;
  public long projid;

  /**
   * Reads an inode occupying {@code inodeSize} bytes (the superblock's {@code s_inode_size}) at {@code buf}'s
   * position and advances past all of them. Extra fields are read only when {@code i_extra_isize} covers them.
   */
  public static Inode decode(ByteBuffer buf, int inodeSize) {
    ByteBuffer b = Le.take(buf, inodeSize);
    Inode i = new Inode();
    i.mode = Le.u16(b, I_MODE);
    i.uid = Le.u16(b, I_UID);
    i.sizeLo = Le.u32(b, I_SIZE_LO);
    i.atime = Le.u32(b, I_ATIME);
    i.ctime = Le.u32(b, I_CTIME);
    i.mtime = Le.u32(b, I_MTIME);
    i.dtime = Le.u32(b, I_DTIME);
    i.gid = Le.u16(b, I_GID);
    i.linksCount = Le.u16(b, I_LINKS_COUNT);
    i.blocksLo = Le.u32(b, I_BLOCKS_LO);
    i.flags = Le.u32(b, I_FLAGS);
    i.version = Le.u32(b, I_VERSION);
    i.block = Le.bytes(b, I_BLOCK, I_BLOCK_LEN);
    i.generation = Le.u32(b, I_GENERATION);
    i.fileAclLo = Le.u32(b, I_FILE_ACL_LO);
    i.sizeHigh = Le.u32(b, I_SIZE_HIGH);
    i.obsoFaddr = Le.u32(b, I_OBSO_FADDR);
    i.blocksHigh = Le.u16(b, I_BLOCKS_HIGH);
    i.fileAclHigh = Le.u16(b, I_FILE_ACL_HIGH);
    i.uidHigh = Le.u16(b, I_UID_HIGH);
    i.gidHigh = Le.u16(b, I_GID_HIGH);
    i.checksumLo = Le.u16(b, I_CHECKSUM_LO);
    i.reserved = Le.u16(b, I_RESERVED);
    if (inodeSize > BASE_SIZE) {
      i.extraIsize = Le.u16(b, I_EXTRA_ISIZE);
      int end = Math.min(BASE_SIZE + i.extraIsize, inodeSize);
      if (end >= I_CHECKSUM_HI + 2) i.checksumHi = Le.u16(b, I_CHECKSUM_HI);
      if (end >= I_CTIME_EXTRA + 4) i.ctimeExtra = Le.u32(b, I_CTIME_EXTRA);
      if (end >= I_MTIME_EXTRA + 4) i.mtimeExtra = Le.u32(b, I_MTIME_EXTRA);
      if (end >= I_ATIME_EXTRA + 4) i.atimeExtra = Le.u32(b, I_ATIME_EXTRA);
      if (end >= I_CRTIME + 4) i.crtime = Le.u32(b, I_CRTIME);
      if (end >= I_CRTIME_EXTRA + 4) i.crtimeExtra = Le.u32(b, I_CRTIME_EXTRA);
      if (end >= I_VERSION_HI + 4) i.versionHi = Le.u32(b, I_VERSION_HI);
      if (end >= I_PROJID + 4) i.projid = Le.u32(b, I_PROJID);
    }
    return i;
  }

  /**
   * Writes the base fields and the extra fields covered by {@link #extraIsize} into the {@code inodeSize}-byte slot
   * at {@code buf}'s position and advances past the slot. Bytes after {@code 128 + extraIsize} are left untouched.
   */
  public void encode(ByteBuffer buf, int inodeSize) {
    ByteBuffer b = Le.take(buf, inodeSize);
    Le.put16(b, I_MODE, mode);
    Le.put16(b, I_UID, uid);
    Le.put32(b, I_SIZE_LO, sizeLo);
    Le.put32(b, I_ATIME, atime);
    Le.put32(b, I_CTIME, ctime);
    Le.put32(b, I_MTIME, mtime);
    Le.put32(b, I_DTIME, dtime);
    Le.put16(b, I_GID, gid);
    Le.put16(b, I_LINKS_COUNT, linksCount);
    Le.put32(b, I_BLOCKS_LO, blocksLo);
    Le.put32(b, I_FLAGS, flags);
    Le.put32(b, I_VERSION, version);
    Le.putBytes(b, I_BLOCK, block, I_BLOCK_LEN);
    Le.put32(b, I_GENERATION, generation);
    Le.put32(b, I_FILE_ACL_LO, fileAclLo);
    Le.put32(b, I_SIZE_HIGH, sizeHigh);
    Le.put32(b, I_OBSO_FADDR, obsoFaddr);
    Le.put16(b, I_BLOCKS_HIGH, blocksHigh);
    Le.put16(b, I_FILE_ACL_HIGH, fileAclHigh);
    Le.put16(b, I_UID_HIGH, uidHigh);
    Le.put16(b, I_GID_HIGH, gidHigh);
    Le.put16(b, I_CHECKSUM_LO, checksumLo);
    Le.put16(b, I_RESERVED, reserved);
    if (inodeSize > BASE_SIZE) {
      if (BASE_SIZE + extraIsize > inodeSize) {
        throw new IllegalArgumentException("i_extra_isize " + extraIsize + " does not fit inode size " + inodeSize);
      }
      Le.put16(b, I_EXTRA_ISIZE, extraIsize);
      int end = BASE_SIZE + extraIsize;
      if (end >= I_CHECKSUM_HI + 2) Le.put16(b, I_CHECKSUM_HI, checksumHi);
      if (end >= I_CTIME_EXTRA + 4) Le.put32(b, I_CTIME_EXTRA, ctimeExtra);
      if (end >= I_MTIME_EXTRA + 4) Le.put32(b, I_MTIME_EXTRA, mtimeExtra);
      if (end >= I_ATIME_EXTRA + 4) Le.put32(b, I_ATIME_EXTRA, atimeExtra);
      if (end >= I_CRTIME + 4) Le.put32(b, I_CRTIME, crtime);
      if (end >= I_CRTIME_EXTRA + 4) Le.put32(b, I_CRTIME_EXTRA, crtimeExtra);
      if (end >= I_VERSION_HI + 4) Le.put32(b, I_VERSION_HI, versionHi);
      if (end >= I_PROJID + 4) Le.put32(b, I_PROJID, projid);
    }
  }

  /** The file type bits ({@code i_mode & S_IFMT}). */
  public int fileType() {
    return mode & S_IFMT;
  }

  public boolean isDirectory() {
    return fileType() == S_IFDIR;
  }

  public boolean isRegular() {
    return fileType() == S_IFREG;
  }

  public boolean isSymlink() {
    return fileType() == S_IFLNK;
  }

  /** The file size: {@code i_size_lo | i_size_high << 32}. */
  public long size() {
    return sizeLo | sizeHigh << 32;
  }

  /** Sets {@code i_size_lo} and {@code i_size_high}. */
  public void setSize(long size) {
    sizeLo = size & 0xFFFF_FFFFL;
    sizeHigh = size >>> 32;
  }

  /** The full 32-bit owner id. */
  public long uid32() {
    return uid | (long) uidHigh << 16;
  }

  /** The full 32-bit group id. */
  public long gid32() {
    return gid | (long) gidHigh << 16;
  }

  /** Sets {@code i_uid} and {@code i_uid_high}. */
  public void setUid(long id) {
    uid = (int) (id & 0xFFFF);
    uidHigh = (int) ((id >>> 16) & 0xFFFF);
  }

  /** Sets {@code i_gid} and {@code i_gid_high}. */
  public void setGid(long id) {
    gid = (int) (id & 0xFFFF);
    gidHigh = (int) ((id >>> 16) & 0xFFFF);
  }

  /**
   * The raw 48-bit block count {@code i_blocks_lo | i_blocks_high << 32}: in 512-byte sectors, or in filesystem
   * blocks when the inode has {@link InodeFlag#HUGE_FILE} (and the fs has {@code huge_file}).
   */
  public long blocks() {
    return blocksLo | (long) blocksHigh << 32;
  }

  /** Sets {@code i_blocks_lo} and {@code i_blocks_high} from a raw 48-bit count. */
  public void setBlocks(long raw) {
    blocksLo = raw & 0xFFFF_FFFFL;
    blocksHigh = (int) ((raw >>> 32) & 0xFFFF);
  }

  /** The extended attribute block: {@code i_file_acl_lo | i_file_acl_high << 32}. */
  public long fileAcl() {
    return fileAclLo | (long) fileAclHigh << 32;
  }

  /** Sets {@code i_file_acl_lo} and {@code i_file_acl_high}. */
  public void setFileAcl(long block) {
    fileAclLo = block & 0xFFFF_FFFFL;
    fileAclHigh = (int) ((block >>> 32) & 0xFFFF);
  }

  public EnumSet<InodeFlag> flagSet() {
    return Flag.decode(InodeFlag.class, (int) flags);
  }

  public boolean has(InodeFlag f) {
    return (flags & f.mask()) != 0;
  }

  /**
   * Device numbers {@code {major, minor}} of a character or block device inode: the old 16-bit encoding in
   * {@code i_block[0]} if non-zero, else the new encoding in {@code i_block[1]}.
   */
  public long[] deviceNumbers() {
    ByteBuffer b = ByteBuffer.wrap(block).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long old = Le.u32(b, 0);
    if (old != 0) {
      return new long[] {(old >> 8) & 0xFF, old & 0xFF};
    }
    long v = Le.u32(b, 4);
    return new long[] {(v & 0xFFF00) >> 8, (v & 0xFF) | ((v >> 12) & 0xFFF00)};
  }

  /**
   * Stores device numbers in {@code i_block} the way the kernel does: the old encoding in {@code i_block[0]} when
   * both fit in 8 bits, otherwise the new encoding in {@code i_block[1]}; all other bytes zero.
   */
  public void setDeviceNumbers(long major, long minor) {
    block = new byte[I_BLOCK_LEN];
    ByteBuffer b = ByteBuffer.wrap(block).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    if (major < 256 && minor < 256) {
      Le.put32(b, 0, major << 8 | minor);
    } else {
      Le.put32(b, 4, (minor & 0xFF) | (major & 0xFFF) << 8 | (minor & ~0xFFL) << 12);
    }
  }
}
