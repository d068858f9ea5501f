package io.lcowgd.ext4;

import io.lcowgd.ext4.format.ExtentHeader;
import io.lcowgd.ext4.format.ExtentIndex;
import io.lcowgd.ext4.format.ExtentLeaf;
import java.nio.ByteBuffer;

/**
 * Builds the extent tree mapping one contiguous run of physical blocks: extents of at most 32768 blocks; up to 4 fit
 * in the inode's {@code i_block} (depth 0); otherwise leaf blocks of 340 extents, and as many index levels as needed
 * until the top level has at most 4 blocks (the root in {@code i_block} indexes them).
 *
 * <p>Tree blocks are laid out contiguously from {@code treeStart}: all leaves first, then each index level.
 */
final class ExtentTrees {
  private ExtentTrees() {}

  static long extentCount(long blocks) {
    return (blocks + ExtentLeaf.MAX_INIT_LEN - 1) / ExtentLeaf.MAX_INIT_LEN;
  }

  /** Number of tree blocks (outside the inode) needed for a run of {@code blocks} blocks. */
  static int treeBlocks(long blocks, int blockSize) {
    long n = extentCount(blocks);
    int per = ExtentHeader.blockCapacity(blockSize);
    long total = 0;
    while (n > ExtentHeader.ROOT_CAPACITY) {
      n = (n + per - 1) / per;
      total += n;
    }
    return Math.toIntExact(total);
  }

  /**
   * Writes the tree blocks for the run {@code [start, start + blocks)} into {@code tree} (sized
   * {@code treeBlocks(...) * blockSize}, zeroed) as if placed at {@code treeStart}, and returns the 60-byte
   * {@code i_block} root.
   */
  static byte[] build(long start, long blocks, long treeStart, ByteBuffer tree, int blockSize) {
    long extents = extentCount(blocks);
    int per = ExtentHeader.blockCapacity(blockSize);
    byte[] root = new byte[60];
    ByteBuffer rootBuf = ByteBuffer.wrap(root);
    if (extents <= ExtentHeader.ROOT_CAPACITY) {
      ExtentHeader.of((int) extents, ExtentHeader.ROOT_CAPACITY, 0).encode(rootBuf);
      for (long i = 0; i < extents; i++) {
        leaf(start, blocks, i).encode(rootBuf);
      }
      return root;
    }
    // Level 0: leaf blocks.
    long levelCount = (extents + per - 1) / per;
    long levelFirst = treeStart;
    for (long j = 0; j < levelCount; j++) {
      ByteBuffer b = tree.slice((int) (j * blockSize), blockSize);
      long lo = j * per;
      long hi = Math.min(extents, lo + per);
      ExtentHeader.of((int) (hi - lo), per, 0).encode(b);
      for (long i = lo; i < hi; i++) {
        leaf(start, blocks, i).encode(b);
      }
    }
    // Extents covered by one node at the current level.
    long span = per;
    int depth = 1;
    long written = levelCount;
    while (levelCount > ExtentHeader.ROOT_CAPACITY) {
      long upCount = (levelCount + per - 1) / per;
      long upFirst = treeStart + written;
      for (long j = 0; j < upCount; j++) {
        ByteBuffer b = tree.slice((int) ((written + j) * blockSize), blockSize);
        long lo = j * per;
        long hi = Math.min(levelCount, lo + per);
        ExtentHeader.of((int) (hi - lo), per, depth).encode(b);
        for (long c = lo; c < hi; c++) {
          new ExtentIndex(c * span * ExtentLeaf.MAX_INIT_LEN, levelFirst + c, 0).encode(b);
        }
      }
      written += upCount;
      levelFirst = upFirst;
      levelCount = upCount;
      span *= per;
      depth++;
    }
    ExtentHeader.of((int) levelCount, ExtentHeader.ROOT_CAPACITY, depth).encode(rootBuf);
    for (long c = 0; c < levelCount; c++) {
      new ExtentIndex(c * span * ExtentLeaf.MAX_INIT_LEN, levelFirst + c, 0).encode(rootBuf);
    }
    return root;
  }

  private static ExtentLeaf leaf(long start, long blocks, long i) {
    long logical = i * ExtentLeaf.MAX_INIT_LEN;
    int len = (int) Math.min(ExtentLeaf.MAX_INIT_LEN, blocks - logical);
    return new ExtentLeaf(logical, len, start + logical);
  }
}
