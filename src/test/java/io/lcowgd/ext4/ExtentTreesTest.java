package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lcowgd.ext4.format.ExtentHeader;
import io.lcowgd.ext4.format.ExtentIndex;
import io.lcowgd.ext4.format.ExtentLeaf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Extent trees for runs needing up to thousands of extents, decoded back and checked to map every block once
 * (hcsshim's writer gets the leaves of files over 340 extents wrong).
 */
class ExtentTreesTest {
  static final int BS = 4096;
  static final long E = ExtentLeaf.MAX_INIT_LEN;

  @ParameterizedTest
  @ValueSource(longs = {0, 1, 4 * E, 4 * E + 1, 340 * E, 341 * E + 7, 681 * E, 4 * 340 * E, 4 * 340 * E + 1,
      340L * 340 * E + 5})
  void treeMapsTheRunContiguously(long blocks) {
    long start = 1000;
    int tb = ExtentTrees.treeBlocks(blocks, BS);
    long treeStart = start + blocks;
    ByteBuffer tree = ByteBuffer.allocate(tb * BS);
    byte[] root = ExtentTrees.build(start, blocks, treeStart, tree, BS);
    List<ExtentLeaf> leaves = new ArrayList<>();
    walk(ByteBuffer.wrap(root), 0, Long.MAX_VALUE, tree, treeStart, leaves);
    long expectLogical = 0;
    for (ExtentLeaf l : leaves) {
      assertEquals(expectLogical, l.logicalBlock());
      assertEquals(start + l.logicalBlock(), l.startBlock());
      expectLogical += l.length();
    }
    assertEquals(blocks, expectLogical, "all blocks mapped");
    assertEquals(ExtentTrees.extentCount(blocks), leaves.size());
  }

  private static void walk(ByteBuffer node, long lo, long hi, ByteBuffer tree, long treeStart, List<ExtentLeaf> out) {
    ExtentHeader h = ExtentHeader.decode(node);
    assertEquals(ExtentHeader.MAGIC, h.magic());
    if (h.depth() == 0) {
      for (int i = 0; i < h.entries(); i++) {
        ExtentLeaf l = ExtentLeaf.decode(node);
        assertEquals(true, l.logicalBlock() >= lo && l.logicalBlock() < hi, "leaf within its index range");
        out.add(l);
      }
      return;
    }
    List<ExtentIndex> idx = new ArrayList<>();
    for (int i = 0; i < h.entries(); i++) {
      idx.add(ExtentIndex.decode(node));
    }
    for (int i = 0; i < idx.size(); i++) {
      ExtentIndex x = idx.get(i);
      long next = i + 1 < idx.size() ? idx.get(i + 1).logicalBlock() : hi;
      ByteBuffer child = tree.slice((int) ((x.leafBlock() - treeStart) * BS), BS);
      int before = out.size();
      walk(child, x.logicalBlock(), next, tree, treeStart, out);
      assertEquals(x.logicalBlock(), out.get(before).logicalBlock(), "index points at its first extent");
      assertEquals(h.depth() - 1, ExtentHeader.decode(tree.slice((int) ((x.leafBlock() - treeStart) * BS), BS))
          .depth());
    }
  }
}
