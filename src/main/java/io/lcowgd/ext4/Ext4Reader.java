package io.lcowgd.ext4;

import io.lcowgd.disk.DiskReader;
import io.lcowgd.ext4.format.Ext4Checksums;
import io.lcowgd.ext4.format.ExtentHeader;
import io.lcowgd.ext4.format.Inode;
import io.lcowgd.ext4.format.Superblock;
import io.lcowgd.ext4.format.XattrBlockHeader;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads an ext4 filesystem from a {@link DiskReader} without mounting it: what our writer produces and what mke2fs and
 * the Linux kernel produce (extent trees of any depth, htree directories read as linear blocks, 64bit, flex_bg,
 * meta_bg, inline_data, in-inode and block xattrs, ea_inode, huge files, uninitialised extents, holes).
 *
 * <p>With {@code metadata_csum}, the superblock, group descriptors, inodes, extent blocks, directory blocks and xattr
 * blocks are verified when read; a mismatch is an {@link Ext4Exception} naming the structure. Every structure is
 * range-checked, trees are walked with loop detection, and sizes are bounded, so a corrupt or hostile image fails
 * with a clear error in bounded time and memory. Instances are not thread-safe; closing the reader closes the disk.
 */
public final class Ext4Reader implements Closeable {
  /** Inode number of the root directory. */
  public static final long ROOT_INODE = 2;
  /** Largest regular file the reader accepts (ext4's limit with 4 KiB blocks). */
  public static final long MAX_FILE_SIZE = 16L << 40;
  /** Longest symlink target accepted (PATH_MAX - 1). */
  public static final int MAX_SYMLINK = 4095;
  private static final byte[] ZEROS = new byte[64 * 1024];

  private final DiskReader disk;
  private final Ext4Superblock sb;
  private final int bs;
  private final int csumSeed;
  private final long[] inodeTable;
  /** Direct-mapped cache of inode-table blocks: neighbouring inodes share a block, so most reads hit. */
  private static final int ITABLE_CACHE = 64;
  private final long[] itableCacheBlock = new long[ITABLE_CACHE];
  private final byte[][] itableCache;
  /**
   * Owner of every directory block listed so far: no two directories may share one, which stops a hostile image
   * from multiplying one block's entries across many directories.
   */
  private final java.util.HashMap<Long, Long> dirBlockOwner = new java.util.HashMap<>();
  /** Reused by {@link #copyData}; allocated on first use. */
  private byte[] copyBuffer;

  private Ext4Reader(DiskReader disk, Ext4Superblock sb, int csumSeed, long[] inodeTable) {
    Arrays.fill(itableCacheBlock, -1);
    this.itableCache = new byte[ITABLE_CACHE][sb.blockSize()];
    this.disk = disk;
    this.sb = sb;
    this.bs = sb.blockSize();
    this.csumSeed = csumSeed;
    this.inodeTable = inodeTable;
  }

  /**
   * Opens the filesystem on {@code disk}: decodes and verifies the superblock and every group descriptor. The disk is
   * owned by the returned reader (closed with it); on failure it is left open for the caller to close.
   */
  public static Ext4Reader open(DiskReader disk) throws IOException {
    if (disk.size() < Ext4Superblock.OFFSET + Ext4Superblock.SIZE) {
      throw new Ext4Exception("image too small for an ext4 superblock (" + disk.size() + " bytes)");
    }
    byte[] raw = new byte[Ext4Superblock.SIZE];
    disk.readFully(Ext4Superblock.OFFSET, ByteBuffer.wrap(raw));
    Ext4Superblock sb = Ext4Superblock.decode(raw);
    int unsupported = sb.featureIncompat() & ~Ext4Features.INCOMPAT_SUPPORTED;
    if (unsupported != 0) {
      throw new Ext4Exception("superblock: unsupported incompatible features "
          + Ext4Features.names(0, unsupported, 0));
    }
    if (sb.metadataCsum()) {
      if (raw[Superblock.S_CHECKSUM_TYPE] != Superblock.CHECKSUM_TYPE_CRC32C) {
        throw new Ext4Exception("superblock: unknown checksum type " + (raw[Superblock.S_CHECKSUM_TYPE] & 0xFF));
      }
      int got = Ext4Checksums.superblock(ByteBuffer.wrap(raw));
      if (got != sb.checksum()) {
        throw new Ext4Exception("superblock: checksum mismatch (stored 0x" + Integer.toHexString(sb.checksum())
            + ", computed 0x" + Integer.toHexString(got) + ")");
      }
    }
    long bs = sb.blockSize();
    if (sb.blocksCount() > disk.size() / bs) {
      throw new Ext4Exception("image truncated: superblock declares " + sb.blocksCount() + " blocks of " + bs
          + " bytes but the disk holds only " + disk.size() + " bytes");
    }
    int seed = sb.hasIncompat(Ext4Features.INCOMPAT_CSUM_SEED) ? sb.checksumSeedField()
        : Crc32c.update(-1, raw, Superblock.S_UUID, 16);
    long groups = sb.groupCount();
    if (groups > Integer.MAX_VALUE / 2) {
      throw new Ext4Exception("superblock: absurd group count " + groups);
    }
    long[] itable = GroupTable.inodeTables(disk, sb, seed, (int) groups);
    return new Ext4Reader(disk, sb, seed, itable);
  }

  /** The decoded superblock. */
  public Ext4Superblock superblock() {
    return sb;
  }

  /** The root directory's inode. */
  public Ext4Inode root() throws IOException {
    Ext4Inode r = inode(ROOT_INODE);
    if (!r.isDirectory()) {
      throw new Ext4Exception("inode 2 (root) is not a directory (mode " + Integer.toOctalString(r.mode()) + ")");
    }
    return r;
  }

  /** Reads and verifies inode {@code number}; it must be in range and in use. */
  public Ext4Inode inode(long number) throws IOException {
    if (number < 1 || number > sb.inodesCount()) {
      throw new Ext4Exception("inode number " + number + " out of range 1.." + sb.inodesCount());
    }
    long pos = inodeOffset(number);
    long blk = pos / bs;
    int slot = (int) (blk & (ITABLE_CACHE - 1));
    if (itableCacheBlock[slot] != blk) {
      try {
        disk.readFully(blk * bs, ByteBuffer.wrap(itableCache[slot]));
      } catch (IOException e) {
        itableCacheBlock[slot] = -1;
        throw new Ext4Exception("inode " + number + ": cannot read inode table block " + blk, e);
      }
      itableCacheBlock[slot] = blk;
    }
    int at = (int) (pos - blk * bs);
    byte[] raw = Arrays.copyOfRange(itableCache[slot], at, at + sb.inodeSize());
    if (sb.metadataCsum()) {
      verifyInode(number, raw);
    }
    Ext4Inode ino = Ext4Inode.decode(number, raw, sb.hasRoCompat(Ext4Features.RO_COMPAT_HUGE_FILE));
    if (ino.mode() == 0 || ino.links() == 0 && !ino.hasFlag(Ext4Inode.FLAG_EA_INODE)) {
      throw new Ext4Exception("inode " + number + " is not in use (mode " + Integer.toOctalString(ino.mode())
          + ", links " + ino.links() + ")");
    }
    if (ino.isRegular() && ino.size() > MAX_FILE_SIZE || ino.size() < 0) {
      throw new Ext4Exception("inode " + number + " has absurd size " + Long.toUnsignedString(ino.size()));
    }
    return ino;
  }

  /** Disk offset of inode {@code number} (which must be in range). */
  long inodeOffset(long number) {
    long idx = number - 1;
    int group = (int) (idx / sb.inodesPerGroup());
    return inodeTable[group] * bs + (idx % sb.inodesPerGroup()) * sb.inodeSize();
  }

  private void verifyInode(long number, byte[] raw) throws Ext4Exception {
    int isz = raw.length;
    // i_checksum_hi exists when i_extra_isize covers it; otherwise only the low 16 bits are stored.
    boolean hi = isz > Inode.BASE_SIZE && Ext4Inode.le16(raw, Inode.I_EXTRA_ISIZE) >= 4;
    int crc = Ext4Checksums.inode(csumSeed, number, ByteBuffer.wrap(raw), isz);
    int want = Ext4Inode.le16(raw, Inode.I_CHECKSUM_LO) | (hi ? Ext4Inode.le16(raw, Inode.I_CHECKSUM_HI) << 16 : 0);
    int got = hi ? crc : crc & 0xFFFF;
    if (want != got) {
      throw new Ext4Exception("inode " + number + ": checksum mismatch (stored 0x" + Integer.toHexString(want)
          + ", computed 0x" + Integer.toHexString(got) + ")");
    }
  }

  /** The filesystem's metadata checksum seed. */
  int checksumSeed() {
    return csumSeed;
  }

  /** The per-inode checksum seed (filesystem seed, inode number, generation). */
  int inodeSeed(Ext4Inode inode) {
    return Ext4Checksums.inodeSeed(csumSeed, inode.number(), inode.generation());
  }

  /** Verifies the checksum tail of an extent tree block (when metadata_csum is on). */
  void verifyExtentBlock(Ext4Inode inode, byte[] b, long blk) throws Ext4Exception {
    if (!sb.metadataCsum()) {
      return;
    }
    int max = Ext4Inode.le16(b, ExtentHeader.EH_MAX);
    int tail = ExtentHeader.SIZE + ExtentHeader.ENTRY_SIZE * max;
    if (tail + 4 > b.length) {
      throw new Ext4Exception("extent block " + blk + " of inode " + inode.number() + ": no room for checksum");
    }
    int got = Ext4Checksums.extentBlock(csumSeed, inode.number(), inode.generation(), ByteBuffer.wrap(b));
    int want = Ext4Inode.le32(b, tail);
    if (got != want) {
      throw new Ext4Exception("extent block " + blk + " of inode " + inode.number() + ": checksum mismatch (stored 0x"
          + Integer.toHexString(want) + ", computed 0x" + Integer.toHexString(got) + ")");
    }
  }

  /** Reads filesystem block {@code blk} into {@code dst} (one block long); {@code what} names it in errors. */
  void readBlock(long blk, byte[] dst, String what) throws IOException {
    if (blk < 0 || blk >= sb.blocksCount()) {
      throw new Ext4Exception(what + ": block " + blk + " outside the filesystem");
    }
    try {
      disk.readFully(blk * bs, ByteBuffer.wrap(dst, 0, bs));
    } catch (IOException e) {
      throw new Ext4Exception(what + ": cannot read block " + blk, e);
    }
  }

  /** The entries of directory {@code dir} other than {@code .} and {@code ..}, in on-disk order. */
  public List<DirEntry> list(Ext4Inode dir) throws IOException {
    if (!dir.isDirectory()) {
      throw new Ext4Exception("inode " + dir.number() + " is not a directory");
    }
    List<DirEntry> out = new ArrayList<>();
    if (dir.hasFlag(Ext4Inode.FLAG_INLINE_DATA)) {
      String where = "inline directory inode " + dir.number();
      DirParser.entries(this, dir.iblockRaw(), 4, 60, out, where, false);
      byte[] more = rawXattrs(dir).get("system.data");
      if (more != null && more.length > 0) {
        DirParser.entries(this, more, 0, more.length, out, where, false);
      }
      return out;
    }
    long nblocks = (dir.size() + bs - 1) / bs;
    if (nblocks > sb.blocksCount() || dir.size() > (1L << 32)) {
      throw new Ext4Exception("directory inode " + dir.number() + " has absurd size " + dir.size());
    }
    FileMap map = BlockMapper.map(this, dir);
    byte[] block = new byte[bs];
    long expect = 0;
    for (int r = 0; r < map.count() && expect < nblocks; r++) {
      if (map.logical(r) != expect || map.uninit(r)) {
        throw new Ext4Exception("directory inode " + dir.number() + ": hole at logical block " + expect);
      }
      for (int i = 0; i < map.length(r) && expect < nblocks; i++, expect++) {
        long p = map.physical(r) + i;
        Long owner = dirBlockOwner.putIfAbsent(p, dir.number());
        if (owner != null && owner != dir.number()) {
          throw new Ext4Exception("directory block " + p + " is shared by directory inodes " + owner + " and "
              + dir.number());
        }
        readBlock(p, block, "directory inode " + dir.number());
        DirParser.block(this, dir, expect, p, block, out);
      }
    }
    if (expect < nblocks) {
      throw new Ext4Exception("directory inode " + dir.number() + ": hole at logical block " + expect);
    }
    return out;
  }

  /** Resolves an absolute or relative path from the root without following symlinks. */
  public Optional<Ext4Inode> lookup(String path) throws IOException {
    Ext4Inode cur = root();
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (!cur.isDirectory()) {
        return Optional.empty();
      }
      byte[] want = part.getBytes(StandardCharsets.UTF_8);
      DirEntry hit = null;
      for (DirEntry e : list(cur)) {
        if (Arrays.equals(e.rawName(), want)) {
          hit = e;
          break;
        }
      }
      if (hit == null) {
        return Optional.empty();
      }
      cur = inode(hit.inode());
    }
    return Optional.of(cur);
  }

  /** The extended attributes of {@code inode} by full name, sorted; the internal {@code system.data} is omitted. */
  public Map<String, byte[]> xattrs(Ext4Inode inode) throws IOException {
    Map<String, byte[]> m = rawXattrs(inode);
    m.remove("system.data");
    return m;
  }

  private Map<String, byte[]> rawXattrs(Ext4Inode inode) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    byte[] raw = inode.raw();
    int start = 128 + inode.extraIsize();
    if (raw.length > 128 && start + 4 <= raw.length && Ext4Inode.le32(raw, start) == XattrParser.MAGIC) {
      XattrParser.parse(this, raw, start + 4, start + 4, raw.length, out, "inode " + inode.number() + " xattrs");
    }
    long blk = inode.fileAclBlock();
    if (blk != 0) {
      String where = "xattr block " + blk + " of inode " + inode.number();
      byte[] b = new byte[bs];
      readBlock(blk, b, where);
      XattrBlockHeader h = XattrBlockHeader.decode(ByteBuffer.wrap(b));
      if (h.magic() != XattrParser.MAGIC || h.blocks() != 1) {
        throw new Ext4Exception(where + ": bad header (magic 0x" + Integer.toHexString(h.magic()) + ", blocks "
            + (int) h.blocks() + ")");
      }
      if (sb.metadataCsum()) {
        int crc = Ext4Checksums.xattrBlock(csumSeed, blk, ByteBuffer.wrap(b), bs);
        int want = (int) h.checksum();
        if (crc != want) {
          throw new Ext4Exception(where + ": checksum mismatch (stored 0x" + Integer.toHexString(want)
              + ", computed 0x" + Integer.toHexString(crc) + ")");
        }
      }
      XattrParser.parse(this, b, XattrBlockHeader.SIZE, 0, bs, out, where);
    }
    return out;
  }

  /** Reads an xattr value stored in its own inode (the {@code ea_inode} feature). */
  byte[] readEaInodeValue(long inum, int size, String where) throws IOException {
    Ext4Inode v = inode(inum);
    if (!v.hasFlag(Ext4Inode.FLAG_EA_INODE) || v.size() < size || v.hasFlag(Ext4Inode.FLAG_INLINE_DATA)) {
      throw new Ext4Exception(where + ": value inode " + inum + " is not a valid EA inode");
    }
    ByteArrayOutputStream bo = new ByteArrayOutputStream(size);
    copyRange(v, size, bo);
    return bo.toByteArray();
  }

  /** The target of symlink {@code link} as raw bytes (fast, slow or inline). */
  public byte[] readLink(Ext4Inode link) throws IOException {
    if (!link.isSymlink()) {
      throw new Ext4Exception("inode " + link.number() + " is not a symlink");
    }
    long size = link.size();
    if (size > MAX_SYMLINK) {
      throw new Ext4Exception("symlink inode " + link.number() + " has absurd target length " + size);
    }
    boolean inIblock = !link.hasFlag(Ext4Inode.FLAG_INLINE_DATA) && size < 60
        && (!link.hasFlag(Ext4Inode.FLAG_EXTENTS) || !BlockMapper.hasExtentHeader(link.iblockRaw()));
    if (inIblock && !link.hasFlag(Ext4Inode.FLAG_EXTENTS)) {
      long dataBlocks = link.blocksRaw() - (link.fileAclBlock() != 0 ? (link.hasFlag(Ext4Inode.FLAG_HUGE_FILE)
          ? 1 : bs / 512) : 0);
      inIblock = dataBlocks <= 0;
    }
    if (inIblock) {
      return Arrays.copyOf(link.iblockRaw(), (int) size);
    }
    return readAll(link, MAX_SYMLINK);
  }

  /** The whole content of a small file (at most {@code max} bytes, else an error). */
  public byte[] readAll(Ext4Inode file, int max) throws IOException {
    if (file.size() > max) {
      throw new Ext4Exception("inode " + file.number() + " is larger than " + max + " bytes");
    }
    ByteArrayOutputStream bo = new ByteArrayOutputStream((int) file.size());
    copyData(file, bo);
    return bo.toByteArray();
  }

  /**
   * Writes the {@link Ext4Inode#size()} bytes of {@code file}'s data to {@code out}: holes and uninitialised extents
   * as zeros, inline data from the inode. Returns the number of bytes written.
   */
  public long copyData(Ext4Inode file, OutputStream out) throws IOException {
    return copyRange(file, file.size(), out);
  }

  private long copyRange(Ext4Inode file, long size, OutputStream out) throws IOException {
    if (file.hasFlag(Ext4Inode.FLAG_INLINE_DATA)) {
      byte[] more = rawXattrs(file).get("system.data");
      int have = 60 + (more == null ? 0 : more.length);
      if (size > have) {
        throw new Ext4Exception("inline inode " + file.number() + ": size " + size + " exceeds inline data (" + have
            + " bytes)");
      }
      int first = (int) Math.min(size, 60);
      out.write(file.iblockRaw(), 0, first);
      if (size > 60) {
        out.write(more, 0, (int) size - 60);
      }
      return size;
    }
    if (size == 0) {
      return 0;
    }
    FileMap map = BlockMapper.map(this, file);
    if (copyBuffer == null) {
      copyBuffer = new byte[1 << 20];
    }
    byte[] buf = copyBuffer;
    long pos = 0;
    for (int r = 0; r < map.count() && pos < size; r++) {
      long start = map.logical(r) * bs;
      if (start >= size) {
        break;
      }
      zeros(out, start - pos);
      long runBytes = Math.min((long) map.length(r) * bs, size - start);
      if (map.uninit(r)) {
        zeros(out, runBytes);
      } else {
        long at = map.physical(r) * bs;
        long left = runBytes;
        while (left > 0) {
          int n = (int) Math.min(buf.length, left);
          try {
            disk.readFully(at, ByteBuffer.wrap(buf, 0, n));
          } catch (IOException e) {
            throw new Ext4Exception("data of inode " + file.number() + ": cannot read " + n + " bytes at " + at, e);
          }
          out.write(buf, 0, n);
          at += n;
          left -= n;
        }
      }
      pos = start + runBytes;
    }
    zeros(out, size - pos);
    return size;
  }

  private static void zeros(OutputStream out, long n) throws IOException {
    while (n > 0) {
      int k = (int) Math.min(ZEROS.length, n);
      out.write(ZEROS, 0, k);
      n -= k;
    }
  }

  /** Number of data runs (merged extents) of a file, for listings; 0 for inline or empty files. */
  public int extentCount(Ext4Inode file) throws IOException {
    if (file.hasFlag(Ext4Inode.FLAG_INLINE_DATA) || (file.isSymlink() && file.size() < 60
        && !file.hasFlag(Ext4Inode.FLAG_EXTENTS)) || file.isCharDevice() || file.type() == Ext4Inode.S_IFBLK) {
      return 0;
    }
    return BlockMapper.map(this, file).count();
  }

  /** Size in bytes of the disk the filesystem was opened on. */
  public long diskSize() {
    return disk.size();
  }

  /** Whether the journal needs recovery ({@code needs_recovery}): the image was not cleanly unmounted. */
  public boolean needsRecovery() {
    return sb.hasIncompat(Ext4Features.INCOMPAT_RECOVER);
  }

  @Override
  public void close() throws IOException {
    disk.close();
  }
}
