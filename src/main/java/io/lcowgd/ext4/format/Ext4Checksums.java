package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The checksums ext4 stores with {@code metadata_csum} (crc32c) and {@code gdt_csum} (crc16).
 *
 * <p>ext4 uses crc32c <em>without</em> the usual pre- and post-inversion, chaining a raw 32-bit state
 * ({@code ext4_chksum(sbi, crc, data, len)}): a superblock checksum is {@code crc32c(~0, sb[0..0x3FC))}, everything
 * else starts from the filesystem seed {@link #seed} and per-inode objects from {@link #inodeSeed}.
 * {@link java.util.zip.CRC32C} always starts from {@code ~0} and inverts the result, so {@link #crc32c} first feeds a
 * 4-byte prefix that drives its state to the requested seed, then undoes the final inversion.
 */
public final class Ext4Checksums {
  private Ext4Checksums() {}

  /** Reflected Castagnoli polynomial. */
  private static final int POLY = 0x82F63B78;
  private static final int[] CRC16_TABLE = new int[256];

  static {
    for (int i = 0; i < 256; i++) {
      int c = i;
      for (int k = 0; k < 8; k++) {
        c = (c & 1) != 0 ? (c >>> 1) ^ 0xA001 : c >>> 1;
      }
      CRC16_TABLE[i] = c;
    }
  }

  /** Raw (non-inverted) crc32c of {@code len} bytes of {@code data} at {@code off}, continuing from state {@code crc}. */
  public static int crc32c(int crc, byte[] data, int off, int len) {
    CRC32C c = start(crc);
    c.update(data, off, len);
    return ~(int) c.getValue();
  }

  /** Raw crc32c of all of {@code data}, continuing from {@code crc}. */
  public static int crc32c(int crc, byte[] data) {
    return crc32c(crc, data, 0, data.length);
  }

  /** Raw crc32c of {@code data}'s remaining bytes (position unchanged), continuing from {@code crc}. */
  public static int crc32c(int crc, ByteBuffer data) {
    CRC32C c = start(crc);
    c.update(data.duplicate());
    return ~(int) c.getValue();
  }

  /** Raw crc32c of a little-endian 32-bit value. */
  public static int crc32cLe32(int crc, long value) {
    return crc32c(crc, le(4, value));
  }

  private static CRC32C start(int seed) {
    // After CRC32C consumes 4 bytes w from its initial state ~0, its state is shift32(~0 ^ w); pick w so that the
    // state equals seed: w = unshift32(seed) ^ ~0.
    int x = seed;
    for (int i = 0; i < 32; i++) {
      x = x < 0 ? ((x ^ POLY) << 1) | 1 : x << 1;
    }
    CRC32C c = new CRC32C();
    c.update(le(4, ~x));
    return c;
  }

  private static byte[] le(int n, long v) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  /** crc16 (poly 0x8005 reflected, as {@code ext2fs_crc16}) of {@code len} bytes, continuing from {@code crc}. */
  public static int crc16(int crc, byte[] data, int off, int len) {
    crc &= 0xFFFF;
    for (int i = off; i < off + len; i++) {
      crc = ((crc >>> 8) & 0xFF) ^ CRC16_TABLE[(crc ^ data[i]) & 0xFF];
    }
    return crc;
  }

  /** {@code s_checksum}: crc32c(~0) over the first 1020 bytes of the encoded superblock at {@code sb}'s position. */
  public static int superblock(ByteBuffer sb) {
    return crc32c(~0, sb.slice(sb.position(), Superblock.S_CHECKSUM));
  }

  /**
   * The filesystem checksum seed: {@code s_checksum_seed} with {@code csum_seed}, else crc32c(~0) of the UUID.
   */
  public static int seed(Superblock sb) {
    return sb.has(IncompatFeature.CSUM_SEED) ? (int) sb.checksumSeed : crc32c(~0, sb.uuid);
  }

  /** Per-inode seed: crc32c over the inode number and then the generation, both little-endian 32-bit. */
  public static int inodeSeed(int seed, long inum, long generation) {
    return crc32cLe32(crc32cLe32(seed, inum), generation);
  }

  /**
   * The full 32-bit inode checksum over the {@code inodeSize}-byte on-disk inode at {@code inode}'s position, with
   * {@code i_checksum_lo} (and {@code i_checksum_hi} when {@code i_extra_isize >= 4}) taken as zero. Store the low 16
   * bits in {@code i_checksum_lo} and the high 16 bits in {@code i_checksum_hi} if that field exists.
   */
  public static int inode(int seed, long inum, ByteBuffer inode, int inodeSize) {
    byte[] b = new byte[inodeSize];
    inode.get(inode.position(), b);
    ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long gen = v.getInt(Inode.I_GENERATION) & 0xFFFF_FFFFL;
    v.putShort(Inode.I_CHECKSUM_LO, (short) 0);
    if (inodeSize > Inode.BASE_SIZE && (v.getShort(Inode.I_EXTRA_ISIZE) & 0xFFFF) >= 4) {
      v.putShort(Inode.I_CHECKSUM_HI, (short) 0);
    }
    return crc32c(inodeSeed(seed, inum, gen), b);
  }

  /**
   * {@code bg_checksum} of the encoded descriptor at {@code desc}'s position ({@code sb.groupDescriptorSize()}
   * bytes): crc32c-based (low 16 bits) with {@code metadata_csum}, crc16 with {@code gdt_csum}, 0 otherwise.
   */
  public static int groupDescriptor(Superblock sb, long group, ByteBuffer desc) {
    int size = sb.groupDescriptorSize();
    if (sb.has(RoCompatFeature.METADATA_CSUM)) {
      return groupDescriptor(seed(sb), group, desc, size);
    }
    byte[] b = new byte[size];
    desc.get(desc.position(), b);
    if (sb.has(RoCompatFeature.GDT_CSUM)) {
      int crc = crc16(0xFFFF, sb.uuid, 0, 16);
      crc = crc16(crc, le(4, group), 0, 4);
      crc = crc16(crc, b, 0, GroupDescriptor.BG_CHECKSUM);
      int rest = GroupDescriptor.BG_CHECKSUM + 2;
      if (rest < size) {
        crc = crc16(crc, b, rest, size - rest);
      }
      return crc;
    }
    return 0;
  }

  /**
   * The {@code metadata_csum} {@code bg_checksum} of the {@code size}-byte encoded descriptor of {@code group} at
   * {@code desc}'s position: the low 16 bits of crc32c from filesystem seed {@code seed} over the group number
   * (little-endian 32-bit) and the descriptor with {@code bg_checksum} taken as zero.
   */
  public static int groupDescriptor(int seed, long group, ByteBuffer desc, int size) {
    byte[] b = new byte[size];
    desc.get(desc.position(), b);
    b[GroupDescriptor.BG_CHECKSUM] = 0;
    b[GroupDescriptor.BG_CHECKSUM + 1] = 0;
    return crc32c(crc32cLe32(seed, group), b) & 0xFFFF;
  }

  /** Block bitmap checksum: crc32c(seed) over {@code s_clusters_per_group / 8} bytes of the bitmap. */
  public static int blockBitmap(int seed, ByteBuffer bitmap, long clustersPerGroup) {
    return crc32c(seed, bitmap.slice(bitmap.position(), (int) (clustersPerGroup / 8)));
  }

  /** Inode bitmap checksum: crc32c(seed) over {@code s_inodes_per_group / 8} bytes of the bitmap. */
  public static int inodeBitmap(int seed, ByteBuffer bitmap, long inodesPerGroup) {
    return crc32c(seed, bitmap.slice(bitmap.position(), (int) (inodesPerGroup / 8)));
  }

  /**
   * Extent tree block tail checksum: crc32c(inode seed) over the header and {@code eh_max} entries of the block at
   * {@code block}'s position.
   */
  public static int extentBlock(int seed, long inum, long generation, ByteBuffer block) {
    int max = Le.u16(block.duplicate().order(ByteOrder.LITTLE_ENDIAN), block.position() + ExtentHeader.EH_MAX);
    return crc32c(inodeSeed(seed, inum, generation), block.slice(block.position(), ExtentHeader.SIZE + 12 * max));
  }

  /** Directory leaf block checksum: crc32c(inode seed) over the block except its 12-byte tail. */
  public static int dirBlock(int seed, long inum, long generation, ByteBuffer block, int blockSize) {
    return crc32c(
        inodeSeed(seed, inum, generation), block.slice(block.position(), blockSize - DirectoryEntry.TAIL_SIZE));
  }

  /** Xattr block checksum: crc32c(seed) over the little-endian 64-bit block number, then the block with
   * {@code h_checksum} taken as zero. */
  public static int xattrBlock(int seed, long blockNr, ByteBuffer block, int blockSize) {
    byte[] b = new byte[blockSize];
    block.get(block.position(), b);
    for (int i = 0; i < 4; i++) {
      b[XattrBlockHeader.H_CHECKSUM + i] = 0;
    }
    return crc32c(crc32c(seed, le(8, blockNr)), b);
  }
}
