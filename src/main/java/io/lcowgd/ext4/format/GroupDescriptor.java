package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * A block group descriptor ({@code struct ext4_group_desc}), 32 bytes without the {@code 64bit} feature, 64 bytes
 * (or {@code s_desc_size}) with it.
 *
 * <p>u16 fields are {@code int}, u32 fields {@code long} holding the unsigned value. The {@code _hi} halves are only
 * read and written in the 64-byte form; the combined accessors ({@link #blockBitmap()}, ...) join both halves.
 */
public final class GroupDescriptor {
  /** Size of the descriptor without {@code 64bit}. */
  public static final int SIZE_32 = 32;
  /** Size of the descriptor with {@code 64bit} (the minimum {@code s_desc_size}). */
  public static final int SIZE_64 = 64;
  /** {@code bg_flags}: inode table and bitmap not initialised. */
  public static final int BG_INODE_UNINIT = 0x1;
  /** {@code bg_flags}: block bitmap not initialised. */
  public static final int BG_BLOCK_UNINIT = 0x2;
  /** {@code bg_flags}: inode table is zeroed. */
  public static final int BG_INODE_ZEROED = 0x4;

  public static final int BG_BLOCK_BITMAP_LO = 0x00;
  public static final int BG_INODE_BITMAP_LO = 0x04;
  public static final int BG_INODE_TABLE_LO = 0x08;
  public static final int BG_FREE_BLOCKS_COUNT_LO = 0x0C;
  public static final int BG_FREE_INODES_COUNT_LO = 0x0E;
  public static final int BG_USED_DIRS_COUNT_LO = 0x10;
  public static final int BG_FLAGS = 0x12;
  public static final int BG_EXCLUDE_BITMAP_LO = 0x14;
  public static final int BG_BLOCK_BITMAP_CSUM_LO = 0x18;
  public static final int BG_INODE_BITMAP_CSUM_LO = 0x1A;
  public static final int BG_ITABLE_UNUSED_LO = 0x1C;
  public static final int BG_CHECKSUM = 0x1E;
  public static final int BG_BLOCK_BITMAP_HI = 0x20;
  public static final int BG_INODE_BITMAP_HI = 0x24;
  public static final int BG_INODE_TABLE_HI = 0x28;
  public static final int BG_FREE_BLOCKS_COUNT_HI = 0x2C;
  public static final int BG_FREE_INODES_COUNT_HI = 0x2E;
  public static final int BG_USED_DIRS_COUNT_HI = 0x30;
  public static final int BG_ITABLE_UNUSED_HI = 0x32;
  public static final int BG_EXCLUDE_BITMAP_HI = 0x34;
  public static final int BG_BLOCK_BITMAP_CSUM_HI = 0x38;
  public static final int BG_INODE_BITMAP_CSUM_HI = 0x3A;
  public static final int BG_RESERVED = 0x3C;

  public long blockBitmapLo;
  public long inodeBitmapLo;
  public long inodeTableLo;
  public int freeBlocksCountLo;
  public int freeInodesCountLo;
  public int usedDirsCountLo;
  public int flags;
  public long excludeBitmapLo;
  public int blockBitmapCsumLo;
  public int inodeBitmapCsumLo;
  public int itableUnusedLo;
  public int checksum;
  public long blockBitmapHi;
  public long inodeBitmapHi;
  public long inodeTableHi;
  public int freeBlocksCountHi;
  public int freeInodesCountHi;
  public int usedDirsCountHi;
  public int itableUnusedHi;
  public long excludeBitmapHi;
  public int blockBitmapCsumHi;
  public int inodeBitmapCsumHi;
  public long reserved;

  /**
   * Reads a descriptor of {@code descSize} bytes (32, or 64 and more) from {@code buf}'s position and advances past
   * it; bytes beyond 64 are skipped.
   */
  public static GroupDescriptor decode(ByteBuffer buf, int descSize) {
    checkSize(descSize);
    ByteBuffer b = Le.take(buf, descSize);
    GroupDescriptor g = new GroupDescriptor();
    g.blockBitmapLo = Le.u32(b, BG_BLOCK_BITMAP_LO);
    g.inodeBitmapLo = Le.u32(b, BG_INODE_BITMAP_LO);
    g.inodeTableLo = Le.u32(b, BG_INODE_TABLE_LO);
    g.freeBlocksCountLo = Le.u16(b, BG_FREE_BLOCKS_COUNT_LO);
    g.freeInodesCountLo = Le.u16(b, BG_FREE_INODES_COUNT_LO);
    g.usedDirsCountLo = Le.u16(b, BG_USED_DIRS_COUNT_LO);
    g.flags = Le.u16(b, BG_FLAGS);
    g.excludeBitmapLo = Le.u32(b, BG_EXCLUDE_BITMAP_LO);
    g.blockBitmapCsumLo = Le.u16(b, BG_BLOCK_BITMAP_CSUM_LO);
    g.inodeBitmapCsumLo = Le.u16(b, BG_INODE_BITMAP_CSUM_LO);
    g.itableUnusedLo = Le.u16(b, BG_ITABLE_UNUSED_LO);
    g.checksum = Le.u16(b, BG_CHECKSUM);
    if (descSize >= SIZE_64) {
      g.blockBitmapHi = Le.u32(b, BG_BLOCK_BITMAP_HI);
      g.inodeBitmapHi = Le.u32(b, BG_INODE_BITMAP_HI);
      g.inodeTableHi = Le.u32(b, BG_INODE_TABLE_HI);
      g.freeBlocksCountHi = Le.u16(b, BG_FREE_BLOCKS_COUNT_HI);
      g.freeInodesCountHi = Le.u16(b, BG_FREE_INODES_COUNT_HI);
      g.usedDirsCountHi = Le.u16(b, BG_USED_DIRS_COUNT_HI);
      g.itableUnusedHi = Le.u16(b, BG_ITABLE_UNUSED_HI);
      g.excludeBitmapHi = Le.u32(b, BG_EXCLUDE_BITMAP_HI);
      g.blockBitmapCsumHi = Le.u16(b, BG_BLOCK_BITMAP_CSUM_HI);
      g.inodeBitmapCsumHi = Le.u16(b, BG_INODE_BITMAP_CSUM_HI);
      g.reserved = Le.u32(b, BG_RESERVED);
    }
    return g;
  }

  /** Writes the descriptor in its {@code descSize}-byte form at {@code buf}'s position and advances past it. */
  public void encode(ByteBuffer buf, int descSize) {
    checkSize(descSize);
    ByteBuffer b = Le.take(buf, descSize);
    Le.put32(b, BG_BLOCK_BITMAP_LO, blockBitmapLo);
    Le.put32(b, BG_INODE_BITMAP_LO, inodeBitmapLo);
    Le.put32(b, BG_INODE_TABLE_LO, inodeTableLo);
    Le.put16(b, BG_FREE_BLOCKS_COUNT_LO, freeBlocksCountLo);
    Le.put16(b, BG_FREE_INODES_COUNT_LO, freeInodesCountLo);
    Le.put16(b, BG_USED_DIRS_COUNT_LO, usedDirsCountLo);
    Le.put16(b, BG_FLAGS, flags);
    Le.put32(b, BG_EXCLUDE_BITMAP_LO, excludeBitmapLo);
    Le.put16(b, BG_BLOCK_BITMAP_CSUM_LO, blockBitmapCsumLo);
    Le.put16(b, BG_INODE_BITMAP_CSUM_LO, inodeBitmapCsumLo);
    Le.put16(b, BG_ITABLE_UNUSED_LO, itableUnusedLo);
    Le.put16(b, BG_CHECKSUM, checksum);
    if (descSize >= SIZE_64) {
      Le.put32(b, BG_BLOCK_BITMAP_HI, blockBitmapHi);
      Le.put32(b, BG_INODE_BITMAP_HI, inodeBitmapHi);
      Le.put32(b, BG_INODE_TABLE_HI, inodeTableHi);
      Le.put16(b, BG_FREE_BLOCKS_COUNT_HI, freeBlocksCountHi);
      Le.put16(b, BG_FREE_INODES_COUNT_HI, freeInodesCountHi);
      Le.put16(b, BG_USED_DIRS_COUNT_HI, usedDirsCountHi);
      Le.put16(b, BG_ITABLE_UNUSED_HI, itableUnusedHi);
      Le.put32(b, BG_EXCLUDE_BITMAP_HI, excludeBitmapHi);
      Le.put16(b, BG_BLOCK_BITMAP_CSUM_HI, blockBitmapCsumHi);
      Le.put16(b, BG_INODE_BITMAP_CSUM_HI, inodeBitmapCsumHi);
      Le.put32(b, BG_RESERVED, reserved);
      for (int i = SIZE_64; i < descSize; i++) {
        b.put(i, (byte) 0);
      }
    }
  }

  private static void checkSize(int descSize) {
    if (descSize != SIZE_32 && descSize < SIZE_64) {
      throw new IllegalArgumentException("group descriptor size must be 32 or >= 64, got " + descSize);
    }
  }

  public long blockBitmap() {
    return blockBitmapLo | blockBitmapHi << 32;
  }

  public long inodeBitmap() {
    return inodeBitmapLo | inodeBitmapHi << 32;
  }

  public long inodeTable() {
    return inodeTableLo | inodeTableHi << 32;
  }

  public long freeBlocksCount() {
    return freeBlocksCountLo | (long) freeBlocksCountHi << 16;
  }

  public long freeInodesCount() {
    return freeInodesCountLo | (long) freeInodesCountHi << 16;
  }

  public long usedDirsCount() {
    return usedDirsCountLo | (long) usedDirsCountHi << 16;
  }

  public long itableUnused() {
    return itableUnusedLo | (long) itableUnusedHi << 16;
  }
}
