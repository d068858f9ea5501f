package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * A leaf of the extent tree ({@code struct ext4_extent}), 12 bytes: maps {@code len} logical blocks starting at
 * {@code logicalBlock} to physical blocks starting at {@code startBlock}.
 *
 * @param logicalBlock {@code ee_block}
 * @param rawLen {@code ee_len} as stored: up to {@link #MAX_INIT_LEN} for initialised extents; larger values mean an
 *     unwritten (preallocated) extent of {@code rawLen - 32768} blocks
 * @param startBlock {@code ee_start_lo | ee_start_hi << 32}
 */
public record ExtentLeaf(long logicalBlock, int rawLen, long startBlock) {
  public static final int SIZE = 12;
  /** Longest initialised extent, in blocks. */
  public static final int MAX_INIT_LEN = 32768;

  public static final int EE_BLOCK = 0x0;
  public static final int EE_LEN = 0x4;
  public static final int EE_START_HI = 0x6;
  public static final int EE_START_LO = 0x8;

  /** True if this extent is unwritten (reads as zeros). */
  public boolean unwritten() {
    return rawLen > MAX_INIT_LEN;
  }

  /** The number of blocks covered. */
  public int length() {
    return unwritten() ? rawLen - MAX_INIT_LEN : rawLen;
  }

  public static ExtentLeaf decode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    return new ExtentLeaf(
        Le.u32(b, EE_BLOCK), Le.u16(b, EE_LEN), Le.u32(b, EE_START_LO) | (long) Le.u16(b, EE_START_HI) << 32);
  }

  public void encode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Le.put32(b, EE_BLOCK, logicalBlock);
    Le.put16(b, EE_LEN, rawLen);
    Le.put16(b, EE_START_HI, (int) (startBlock >>> 32));
    Le.put32(b, EE_START_LO, startBlock);
  }
}
