package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Superblock;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * The fields of an ext4 superblock (1024 bytes at disk offset 1024) that the reader needs, decoded and validated.
 * Offsets are those of {@code struct ext4_super_block} in the kernel's {@code fs/ext4/ext4.h}.
 */
public record Ext4Superblock(
    long inodesCount,
    long blocksCount,
    long freeBlocksCount,
    long freeInodesCount,
    long firstDataBlock,
    int blockSize,
    long blocksPerGroup,
    long inodesPerGroup,
    int inodeSize,
    long firstInode,
    int revLevel,
    int state,
    int featureCompat,
    int featureIncompat,
    int featureRoCompat,
    UUID uuid,
    String volumeName,
    int descSize,
    long firstMetaBg,
    int checksumSeedField,
    int checksum,
    long mkfsTime,
    long writeTime) {

  /** Byte offset of the superblock on the disk. */
  public static final int OFFSET = 1024;
  /** Size of the superblock. */
  public static final int SIZE = Superblock.SIZE;
  /** {@code s_magic}. */
  public static final int MAGIC = Superblock.MAGIC;
  /** Most block groups accepted (128 TiB with 4 KiB blocks); bounds the group table kept in memory. */
  public static final long MAX_GROUPS = 1 << 20;
  /** Offset of {@code s_checksum}. */
  static final int CHECKSUM_OFFSET = 0x3FC;

  /** Decodes and validates {@code raw} (exactly {@link #SIZE} bytes); the checksum is verified by the reader. */
  public static Ext4Superblock decode(byte[] raw) throws Ext4Exception {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getShort(0x38) & 0xFFFF;
    if (magic != MAGIC) {
      throw new Ext4Exception(String.format("superblock: bad magic 0x%04x (not an ext2/3/4 filesystem)", magic));
    }
    int incompat = b.getInt(0x60);
    boolean is64 = (incompat & Ext4Features.INCOMPAT_64BIT) != 0;
    long blocks = u32(b, 0x04) | (is64 ? u32(b, 0x150) << 32 : 0);
    long freeBlocks = u32(b, 0x0C) | (is64 ? u32(b, 0x158) << 32 : 0);
    int logBlock = b.getInt(0x18);
    if (logBlock < 0 || logBlock > 6) {
      throw new Ext4Exception("superblock: unsupported s_log_block_size " + Integer.toUnsignedString(logBlock));
    }
    int blockSize = 1024 << logBlock;
    int rev = b.getInt(0x4C);
    int inodeSize = rev == 0 ? 128 : b.getShort(0x58) & 0xFFFF;
    if (inodeSize < 128 || inodeSize > blockSize || Integer.bitCount(inodeSize) != 1) {
      throw new Ext4Exception("superblock: invalid inode size " + inodeSize);
    }
    int descSize = is64 ? b.getShort(0xFE) & 0xFFFF : 32;
    if (is64 && (descSize < 64 || descSize > 1024 || Integer.bitCount(descSize) != 1)) {
      throw new Ext4Exception("superblock: invalid group descriptor size " + descSize + " with 64bit");
    }
    long bpg = u32(b, 0x20);
    long ipg = u32(b, 0x28);
    long firstData = u32(b, 0x14);
    if (bpg == 0 || bpg > 8L * blockSize) {
      throw new Ext4Exception("superblock: invalid blocks per group " + bpg);
    }
    if (ipg == 0 || ipg > 8L * blockSize) {
      throw new Ext4Exception("superblock: invalid inodes per group " + ipg);
    }
    if (firstData != (blockSize == 1024 ? 1 : 0)) {
      throw new Ext4Exception("superblock: invalid first data block " + firstData + " for block size " + blockSize);
    }
    if (blocks <= firstData) {
      throw new Ext4Exception("superblock: invalid blocks count " + blocks);
    }
    long groups = (blocks - firstData + bpg - 1) / bpg;
    if (groups > MAX_GROUPS) {
      throw new Ext4Exception("superblock: " + groups + " block groups exceed the supported maximum " + MAX_GROUPS);
    }
    long inodes = u32(b, 0x00);
    if (inodes != groups * ipg) {
      throw new Ext4Exception("superblock: inodes count " + inodes + " != " + groups + " groups * " + ipg
          + " inodes per group");
    }
    long firstIno = rev == 0 ? 11 : u32(b, 0x54);
    if (firstIno < 3 || firstIno > inodes) {
      throw new Ext4Exception("superblock: invalid first inode " + firstIno);
    }
    byte[] uuid = new byte[16];
    b.get(0x68, uuid);
    ByteBuffer ub = ByteBuffer.wrap(uuid);
    byte[] vol = new byte[16];
    b.get(0x78, vol);
    int volLen = 0;
    while (volLen < 16 && vol[volLen] != 0) {
      volLen++;
    }
    return new Ext4Superblock(inodes, blocks, freeBlocks, u32(b, 0x10), firstData, blockSize, bpg, ipg, inodeSize,
        firstIno, rev, b.getShort(0x3A) & 0xFFFF, b.getInt(0x5C), incompat, b.getInt(0x64),
        new UUID(ub.getLong(), ub.getLong()), new String(vol, 0, volLen, StandardCharsets.UTF_8), descSize,
        u32(b, 0x104), b.getInt(0x270), b.getInt(CHECKSUM_OFFSET), u32(b, 0x108), u32(b, 0x30));
  }

  private static long u32(ByteBuffer b, int off) {
    return b.getInt(off) & 0xFFFFFFFFL;
  }

  /** Number of block groups. */
  public long groupCount() {
    return (blocksCount - firstDataBlock + blocksPerGroup - 1) / blocksPerGroup;
  }

  /** Whether an incompatible feature bit is set. */
  public boolean hasIncompat(int bit) {
    return (featureIncompat & bit) != 0;
  }

  /** Whether a read-only-compatible feature bit is set. */
  public boolean hasRoCompat(int bit) {
    return (featureRoCompat & bit) != 0;
  }

  /** Whether a compatible feature bit is set. */
  public boolean hasCompat(int bit) {
    return (featureCompat & bit) != 0;
  }

  /** Whether metadata checksums ({@code metadata_csum}) are present and verified. */
  public boolean metadataCsum() {
    return hasRoCompat(Ext4Features.RO_COMPAT_METADATA_CSUM);
  }

  /** The feature names, as {@code dumpe2fs} lists them. */
  public List<String> featureNames() {
    return Ext4Features.names(featureCompat, featureIncompat, featureRoCompat);
  }
}
