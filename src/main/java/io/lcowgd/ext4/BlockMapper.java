package io.lcowgd.ext4;

import io.lcowgd.ext4.format.ExtentHeader;
import io.lcowgd.ext4.format.ExtentIndex;
import io.lcowgd.ext4.format.ExtentLeaf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;

/**
 * Builds the {@link FileMap} of an inode from its extent tree (any depth, checksummed tail verified) or from a
 * classic direct/indirect block map. Every tree block is visited at most once and logical blocks must ascend, so a
 * hostile tree (loops, shared children, out-of-range pointers) ends in an {@link Ext4Exception}, never a hang.
 */
final class BlockMapper {
  private static final int MAX_DEPTH = 5;

  private final Ext4Reader fs;
  private final Ext4Inode inode;
  private final int bs;
  private final Set<Long> visited = new HashSet<>();
  private final FileMap map = new FileMap();
  private long nextLogical;

  private BlockMapper(Ext4Reader fs, Ext4Inode inode) {
    this.fs = fs;
    this.inode = inode;
    this.bs = fs.superblock().blockSize();
  }

  /** Maps every block of {@code inode}'s data (extent tree or block map). */
  static FileMap map(Ext4Reader fs, Ext4Inode inode) throws IOException {
    BlockMapper m = new BlockMapper(fs, inode);
    if (inode.hasFlag(Ext4Inode.FLAG_EXTENTS)) {
      m.node(inode.iblockRaw(), 0, 60, -1, 0, 1L << 32, "extent root in inode " + inode.number());
    } else {
      m.blockMap();
    }
    return m.map;
  }

  /** Whether the i_block area starts with an extent header magic. */
  static boolean hasExtentHeader(byte[] iblock) {
    return Ext4Inode.le16(iblock, ExtentHeader.EH_MAGIC) == ExtentHeader.MAGIC;
  }

  private void node(byte[] b, int off, int len, int expectDepth, long minLogical, long endLogical, String where)
      throws IOException {
    ByteBuffer node = ByteBuffer.wrap(b, off, len);
    ExtentHeader h = ExtentHeader.decode(node);
    int entries = h.entries();
    int max = h.max();
    int depth = h.depth();
    if (h.magic() != ExtentHeader.MAGIC) {
      throw new Ext4Exception(where + ": bad extent header magic 0x" + Integer.toHexString(h.magic()));
    }
    if (ExtentHeader.SIZE + (long) ExtentHeader.ENTRY_SIZE * max > len || entries > max) {
      throw new Ext4Exception(where + ": extent header entries " + entries + " / max " + max + " do not fit");
    }
    if (depth > MAX_DEPTH || (expectDepth >= 0 && depth != expectDepth)) {
      throw new Ext4Exception(where + ": extent tree depth " + depth + " (expected "
          + (expectDepth >= 0 ? expectDepth : "<= " + MAX_DEPTH) + ")");
    }
    long blocks = fs.superblock().blocksCount();
    if (depth == 0) {
      for (int i = 0; i < entries; i++) {
        ExtentLeaf x = ExtentLeaf.decode(node);
        long lblk = x.logicalBlock();
        long pblk = x.startBlock();
        boolean un = x.unwritten();
        int n = x.length();
        if (n == 0) {
          throw new Ext4Exception(where + ": extent " + i + " has length 0");
        }
        if (lblk < nextLogical || lblk < minLogical || lblk + n > endLogical) {
          throw new Ext4Exception(where + ": extent " + i + " at logical block " + lblk
              + " is out of order or outside its index range");
        }
        if (pblk == 0 || pblk + n > blocks) {
          throw new Ext4Exception(where + ": extent " + i + " points at blocks " + pblk + "+" + n
              + " outside the filesystem (" + blocks + " blocks)");
        }
        map.add(lblk, pblk, n, un);
        nextLogical = lblk + n;
      }
      return;
    }
    byte[] child = new byte[bs];
    ExtentIndex[] index = new ExtentIndex[entries];
    for (int i = 0; i < entries; i++) {
      index[i] = ExtentIndex.decode(node);
    }
    for (int i = 0; i < entries; i++) {
      long first = index[i].logicalBlock();
      long leaf = index[i].leafBlock();
      long next = i + 1 < entries ? index[i + 1].logicalBlock() : endLogical;
      if (first < minLogical || first < nextLogical || next <= first || next > endLogical) {
        throw new Ext4Exception(where + ": index entry " + i + " at logical block " + first + " is out of order");
      }
      if (leaf == 0 || leaf >= blocks) {
        throw new Ext4Exception(where + ": index entry " + i + " points at block " + leaf
            + " outside the filesystem (" + blocks + " blocks)");
      }
      if (!visited.add(leaf)) {
        throw new Ext4Exception(where + ": extent block " + leaf + " is referenced twice (loop)");
      }
      String cw = "extent block " + leaf + " of inode " + inode.number();
      fs.readBlock(leaf, child, cw);
      fs.verifyExtentBlock(inode, child, leaf);
      node(child, 0, bs, depth - 1, first, next, cw);
    }
  }

  private void blockMap() throws IOException {
    long fileBlocks = (inode.size() + bs - 1) / bs;
    byte[] ib = inode.iblockRaw();
    long lblk = 0;
    for (int i = 0; i < 12 && lblk < fileBlocks; i++, lblk++) {
      data(lblk, Ext4Inode.le32(ib, 4 * i) & 0xFFFFFFFFL);
    }
    long per = bs / 4;
    long span = per;
    for (int level = 1; level <= 3 && lblk < fileBlocks; level++) {
      long ptr = Ext4Inode.le32(ib, 4 * (11 + level)) & 0xFFFFFFFFL;
      indirect(ptr, level, lblk, fileBlocks);
      lblk += span;
      span *= per;
    }
  }

  private void indirect(long blk, int level, long lblk, long fileBlocks) throws IOException {
    if (blk == 0) {
      return;
    }
    String where = "indirect block " + blk + " of inode " + inode.number();
    if (blk >= fs.superblock().blocksCount() || !visited.add(blk)) {
      throw new Ext4Exception(where + ": out of range or referenced twice");
    }
    byte[] b = new byte[bs];
    fs.readBlock(blk, b, where);
    long per = bs / 4;
    long span = 1;
    for (int l = 1; l < level; l++) {
      span *= per;
    }
    for (int i = 0; i < per && lblk + i * span < fileBlocks; i++) {
      long p = Ext4Inode.le32(b, 4 * i) & 0xFFFFFFFFL;
      if (level == 1) {
        data(lblk + i, p);
      } else {
        indirect(p, level - 1, lblk + i * span, fileBlocks);
      }
    }
  }

  private void data(long lblk, long pblk) throws Ext4Exception {
    if (pblk == 0) {
      return;
    }
    if (pblk >= fs.superblock().blocksCount()) {
      throw new Ext4Exception("inode " + inode.number() + ": block map points at block " + pblk
          + " outside the filesystem");
    }
    map.add(lblk, pblk, 1, false);
  }
}
