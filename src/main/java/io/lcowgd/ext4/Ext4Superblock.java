package io.lcowgd.ext4;

import io.lcowgd.ext4.format.GroupDescriptor;
import io.lcowgd.ext4.format.Inode;
import io.lcowgd.ext4.format.Superblock;
import java.nio.ByteBuffer;
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

  /** Decodes and validates {@code raw} (exactly {@link #SIZE} bytes); the checksum is verified by the reader. */
  public static Ext4Superblock decode(byte[] raw) throws Ext4Exception {
    Superblock s = Superblock.decode(ByteBuffer.wrap(raw));
    if (s.magic != MAGIC) {
      throw new Ext4Exception(String.format("superblock: bad magic 0x%04x (not an ext2/3/4 filesystem)", s.magic));
    }
    int incompat = (int) s.featureIncompat;
    boolean is64 = (incompat & Ext4Features.INCOMPAT_64BIT) != 0;
    long blocks = s.blocksCount();
    long freeBlocks = s.freeBlocksCount();
    int logBlock = (int) s.logBlockSize;
    if (logBlock < 0 || logBlock > 6) {
      throw new Ext4Exception("superblock: unsupported s_log_block_size " + Integer.toUnsignedString(logBlock));
    }
    int blockSize = 1024 << logBlock;
    int rev = (int) s.revLevel;
    int inodeSize = rev == 0 ? Inode.BASE_SIZE : s.inodeSize;
    if (inodeSize < 128 || inodeSize > blockSize || Integer.bitCount(inodeSize) != 1) {
      throw new Ext4Exception("superblock: invalid inode size " + inodeSize);
    }
    int descSize = is64 ? s.descSize : GroupDescriptor.SIZE_32;
    if (is64 && (descSize < 64 || descSize > 1024 || Integer.bitCount(descSize) != 1)) {
      throw new Ext4Exception("superblock: invalid group descriptor size " + descSize + " with 64bit");
    }
    long bpg = s.blocksPerGroup;
    long ipg = s.inodesPerGroup;
    long firstData = s.firstDataBlock;
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
    long inodes = s.inodesCount;
    if (inodes != groups * ipg) {
      throw new Ext4Exception("superblock: inodes count " + inodes + " != " + groups + " groups * " + ipg
          + " inodes per group");
    }
    long firstIno = rev == 0 ? Inode.GOOD_OLD_FIRST_INO : s.firstIno;
    if (firstIno < 3 || firstIno > inodes) {
      throw new Ext4Exception("superblock: invalid first inode " + firstIno);
    }
    ByteBuffer ub = ByteBuffer.wrap(s.uuid);
    int volLen = 0;
    while (volLen < 16 && s.volumeName[volLen] != 0) {
      volLen++;
    }
    return new Ext4Superblock(inodes, blocks, freeBlocks, s.freeInodesCount, firstData, blockSize, bpg, ipg, inodeSize,
        firstIno, rev, s.state, (int) s.featureCompat, incompat, (int) s.featureRoCompat,
        new UUID(ub.getLong(), ub.getLong()), new String(s.volumeName, 0, volLen, StandardCharsets.UTF_8), descSize,
        s.firstMetaBg, (int) s.checksumSeed, (int) s.checksum, s.mkfsTime, s.wtime);
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
