package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * Header of an extent tree node ({@code struct ext4_extent_header}), 12 bytes, at the start of {@code i_block} or of an
 * extent tree block; followed by {@code entries} {@link ExtentLeaf}s (depth 0) or {@link ExtentIndex}es (depth > 0).
 *
 * @param magic {@code eh_magic}, {@link #MAGIC} in a valid node
 * @param entries {@code eh_entries}: valid entries following the header
 * @param max {@code eh_max}: capacity of the node
 * @param depth {@code eh_depth}: 0 for leaves
 * @param generation {@code eh_generation}
 */
public record ExtentHeader(int magic, int entries, int max, int depth, long generation) {
  public static final int SIZE = 12;
  public static final int MAGIC = 0xF30A;
  /** Size of one leaf or index entry. */
  public static final int ENTRY_SIZE = 12;
  /** Size of the checksum tail ({@code struct ext4_extent_tail}) after the entries of a tree block. */
  public static final int TAIL_SIZE = 4;
  /** Entries of the root node in the 60-byte {@code i_block}: (60 - 12) / 12. */
  public static final int ROOT_CAPACITY = 4;

  public static final int EH_MAGIC = 0x0;
  public static final int EH_ENTRIES = 0x2;
  public static final int EH_MAX = 0x4;
  public static final int EH_DEPTH = 0x6;
  public static final int EH_GENERATION = 0x8;

  /** A header with the magic set and generation 0. */
  public static ExtentHeader of(int entries, int max, int depth) {
    return new ExtentHeader(MAGIC, entries, max, depth, 0);
  }

  /** Entries that fit in a tree block of {@code blockSize} bytes, leaving room for the checksum tail. */
  public static int blockCapacity(int blockSize) {
    return (blockSize - SIZE - TAIL_SIZE) / ENTRY_SIZE;
  }

  public static ExtentHeader decode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    return new ExtentHeader(
        Le.u16(b, EH_MAGIC), Le.u16(b, EH_ENTRIES), Le.u16(b, EH_MAX), Le.u16(b, EH_DEPTH), Le.u32(b, EH_GENERATION));
  }

  public void encode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Le.put16(b, EH_MAGIC, magic);
    Le.put16(b, EH_ENTRIES, entries);
    Le.put16(b, EH_MAX, max);
    Le.put16(b, EH_DEPTH, depth);
    Le.put32(b, EH_GENERATION, generation);
  }
}
