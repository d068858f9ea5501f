package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Ext4Time;
import io.lcowgd.ext4.format.Inode;
import io.lcowgd.ext4.format.InodeFlag;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * One decoded inode ({@code struct ext4_inode}): type and permissions, ownership, size, times with nanoseconds,
 * flags, and the raw {@code i_block} area and in-inode extended-attribute area that the reader interprets further.
 */
public final class Ext4Inode {
  /** File type bits of {@code i_mode} (the on-disk values are defined once, in {@link Inode}). */
  public static final int S_IFMT = Inode.S_IFMT;
  public static final int S_IFSOCK = Inode.S_IFSOCK;
  public static final int S_IFLNK = Inode.S_IFLNK;
  public static final int S_IFREG = Inode.S_IFREG;
  public static final int S_IFBLK = Inode.S_IFBLK;
  public static final int S_IFDIR = Inode.S_IFDIR;
  public static final int S_IFCHR = Inode.S_IFCHR;
  public static final int S_IFIFO = Inode.S_IFIFO;

  /** {@code i_flags} bits the reader interprets (from {@link InodeFlag}). */
  public static final int FLAG_INDEX = InodeFlag.INDEX.mask();
  public static final int FLAG_HUGE_FILE = InodeFlag.HUGE_FILE.mask();
  public static final int FLAG_EXTENTS = InodeFlag.EXTENTS.mask();
  public static final int FLAG_EA_INODE = InodeFlag.EA_INODE.mask();
  public static final int FLAG_INLINE_DATA = InodeFlag.INLINE_DATA.mask();

  private final long number;
  private final int mode;
  private final long uid;
  private final long gid;
  private final long size;
  private final int links;
  private final int flags;
  private final long generation;
  private final long fileAcl;
  private final long blocks;
  private final Instant atime;
  private final Instant ctime;
  private final Instant mtime;
  private final Instant crtime;
  private final byte[] iblock;
  private final int extraIsize;
  private final int deviceMajor;
  private final int deviceMinor;
  private final byte[] raw;

  private Ext4Inode(long number, byte[] raw, boolean hugeFileFs) {
    this.number = number;
    this.raw = raw;
    Inode d = Inode.decode(ByteBuffer.wrap(raw), raw.length);
    mode = d.mode;
    uid = d.uid32();
    gid = d.gid32();
    size = d.size();
    links = d.linksCount;
    flags = (int) d.flags;
    generation = d.generation;
    fileAcl = d.fileAcl();
    blocks = hugeFileFs ? d.blocks() : d.blocksLo;
    iblock = d.block;
    long[] dev = d.deviceNumbers();
    deviceMajor = (int) dev[0];
    deviceMinor = (int) dev[1];
    extraIsize = raw.length > Inode.BASE_SIZE ? Math.min(d.extraIsize, raw.length - Inode.BASE_SIZE) : 0;
    // Extra fields i_extra_isize does not cover decode as 0, so a missing crtime is the epoch.
    atime = time(d.atime, d.atimeExtra);
    ctime = time(d.ctime, d.ctimeExtra);
    mtime = time(d.mtime, d.mtimeExtra);
    crtime = time(d.crtime, d.crtimeExtra);
  }

  /** Decodes {@code raw} (one on-disk inode of the superblock's inode size) as inode {@code number}. */
  static Ext4Inode decode(long number, byte[] raw, boolean hugeFileFs) {
    return new Ext4Inode(number, raw, hugeFileFs);
  }

  private static Instant time(long seconds, long extra) {
    long nsec = Ext4Time.decodeNanos(extra);
    if (nsec > 999_999_999) {
      nsec = 0;
    }
    return Instant.ofEpochSecond(Ext4Time.decodeSeconds(seconds, extra), nsec);
  }

  /** The inode number. */
  public long number() {
    return number;
  }

  /** {@code i_mode}: type bits and permission bits (including setuid, setgid, sticky). */
  public int mode() {
    return mode;
  }

  /** The type bits of the mode ({@link #S_IFMT} mask). */
  public int type() {
    return mode & S_IFMT;
  }

  /** The permission bits (07777). */
  public int permissions() {
    return mode & 07777;
  }

  /** Whether this is a directory. */
  public boolean isDirectory() {
    return type() == S_IFDIR;
  }

  /** Whether this is a regular file. */
  public boolean isRegular() {
    return type() == S_IFREG;
  }

  /** Whether this is a symbolic link. */
  public boolean isSymlink() {
    return type() == S_IFLNK;
  }

  /** Whether this is a character device. */
  public boolean isCharDevice() {
    return type() == S_IFCHR;
  }

  /** Whether this is an overlay whiteout: a character device with device number 0/0. */
  public boolean isWhiteout() {
    return isCharDevice() && deviceMajor() == 0 && deviceMinor() == 0;
  }

  /** The 32-bit owner id. */
  public long uid() {
    return uid;
  }

  /** The 32-bit group id. */
  public long gid() {
    return gid;
  }

  /** The file size in bytes ({@code i_size_lo | i_size_high << 32}). */
  public long size() {
    return size;
  }

  /** The hard-link count. */
  public int links() {
    return links;
  }

  /** {@code i_flags}. */
  public int flags() {
    return flags;
  }

  /** Whether a flag bit is set. */
  public boolean hasFlag(int flag) {
    return (flags & flag) != 0;
  }

  /** {@code i_generation}. */
  public long generation() {
    return generation;
  }

  /** The extended-attribute block number, or 0. */
  public long fileAclBlock() {
    return fileAcl;
  }

  /** {@code i_blocks} as stored (512-byte units, or filesystem blocks when the inode has HUGE_FILE). */
  public long blocksRaw() {
    return blocks;
  }

  /** Last access time (seconds and nanoseconds; epoch-extended). */
  public Instant atime() {
    return atime;
  }

  /** Last status change time. */
  public Instant ctime() {
    return ctime;
  }

  /** Last modification time. */
  public Instant mtime() {
    return mtime;
  }

  /** Creation time, or the epoch when the inode is too small to hold it. */
  public Instant crtime() {
    return crtime;
  }

  /** A copy of the 60-byte {@code i_block} area. */
  public byte[] iblock() {
    return iblock.clone();
  }

  byte[] iblockRaw() {
    return iblock;
  }

  /** The device major number of a character or block device. */
  public int deviceMajor() {
    return deviceMajor;
  }

  /** The device minor number of a character or block device. */
  public int deviceMinor() {
    return deviceMinor;
  }

  /** {@code i_extra_isize}, clamped to the inode size. */
  int extraIsize() {
    return extraIsize;
  }

  /** The raw on-disk inode (shared; callers must not modify it). */
  byte[] raw() {
    return raw;
  }

  static int le32(byte[] a, int off) {
    return (a[off] & 0xFF) | (a[off + 1] & 0xFF) << 8 | (a[off + 2] & 0xFF) << 16 | (a[off + 3] & 0xFF) << 24;
  }

  static int le16(byte[] a, int off) {
    return (a[off] & 0xFF) | (a[off + 1] & 0xFF) << 8;
  }

  @Override
  public String toString() {
    return "inode " + number + " mode " + Integer.toOctalString(mode) + " size " + size;
  }
}
