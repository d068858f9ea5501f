package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * An interior entry of the extent tree ({@code struct ext4_extent_idx}), 12 bytes: the subtree in block
 * {@code leafBlock} covers logical blocks from {@code logicalBlock} on.
 *
 * @param logicalBlock {@code ei_block}
 * @param leafBlock {@code ei_leaf_lo | ei_leaf_hi << 32}
 * @param unused {@code ei_unused}
 */
public record ExtentIndex(long logicalBlock, long leafBlock, int unused) {
  public static final int SIZE = 12;

  public static final int EI_BLOCK = 0x0;
  public static final int EI_LEAF_LO = 0x4;
  public static final int EI_LEAF_HI = 0x8;
  public static final int EI_UNUSED = 0xA;

  public static ExtentIndex decode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    return new ExtentIndex(
        Le.u32(b, EI_BLOCK), Le.u32(b, EI_LEAF_LO) | (long) Le.u16(b, EI_LEAF_HI) << 32, Le.u16(b, EI_UNUSED));
  }

  public void encode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Le.put32(b, EI_BLOCK, logicalBlock);
    Le.put32(b, EI_LEAF_LO, leafBlock);
    Le.put16(b, EI_LEAF_HI, (int) (leafBlock >>> 32));
    Le.put16(b, EI_UNUSED, unused);
  }
}
