package io.lcowgd.ext4;

import io.lcowgd.disk.DiskReader;
import io.lcowgd.ext4.format.Ext4Checksums;
import io.lcowgd.ext4.format.GroupDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The group descriptor table: where it lives (after the superblock, or per meta-group with {@code meta_bg}), the
 * {@code metadata_csum} check of each descriptor, and the inode-table location of every group, range-checked.
 */
final class GroupTable {
  private GroupTable() {}

  /** Reads and verifies every group descriptor and returns each group's inode table block. */
  static long[] inodeTables(DiskReader disk, Ext4Superblock sb, int seed, int groups)
      throws IOException {
    int bs = sb.blockSize();
    int ds = sb.descSize();
    int perBlock = bs / ds;
    long gdtBlocks = (groups + perBlock - 1) / perBlock;
    long[] itable = new long[groups];
    byte[] block = new byte[bs];
    long itableBlocks = (sb.inodesPerGroup() * sb.inodeSize() + bs - 1) / bs;
    for (long gb = 0; gb < gdtBlocks; gb++) {
      long loc = gdtBlockLocation(sb, gb, perBlock);
      if (loc >= sb.blocksCount()) {
        throw new Ext4Exception("group descriptor block " + gb + " at " + loc + " lies outside the filesystem");
      }
      disk.readFully(loc * bs, ByteBuffer.wrap(block));
      for (int i = 0; i < perBlock; i++) {
        long g = gb * perBlock + i;
        if (g >= groups) {
          break;
        }
        int off = i * ds;
        if (sb.metadataCsum()) {
          int crc = Ext4Checksums.groupDescriptor(seed, g, ByteBuffer.wrap(block, off, ds), ds);
          int want = Ext4Inode.le16(block, off + GroupDescriptor.BG_CHECKSUM);
          if (crc != want) {
            throw new Ext4Exception("group descriptor " + g + ": checksum mismatch (stored 0x"
                + Integer.toHexString(want) + ", computed 0x" + Integer.toHexString(crc) + ")");
          }
        }
        // Without 64bit the descriptor is 32 bytes, so decode takes no _hi fields (the superblock enforces that).
        long it = GroupDescriptor.decode(ByteBuffer.wrap(block, off, ds), ds).inodeTable();
        if (it == 0 || it + itableBlocks > sb.blocksCount()) {
          throw new Ext4Exception("group descriptor " + g + ": inode table at block " + it
              + " lies outside the filesystem");
        }
        itable[(int) g] = it;
      }
    }
    return itable;
  }

  private static long gdtBlockLocation(Ext4Superblock sb, long gb, int perBlock) {
    long first = sb.firstDataBlock() + 1;
    if (!sb.hasIncompat(Ext4Features.INCOMPAT_META_BG) || gb < sb.firstMetaBg()) {
      return first + gb;
    }
    long g = gb * perBlock;
    return sb.firstDataBlock() + g * sb.blocksPerGroup() + (hasSuperBackup(sb, g) ? 1 : 0);
  }

  private static boolean hasSuperBackup(Ext4Superblock sb, long g) {
    if (g <= 1 || (sb.featureRoCompat() & 1) == 0) {
      return true;
    }
    for (long p : new long[] {3, 5, 7}) {
      long x = p;
      while (x < g) {
        x *= p;
      }
      if (x == g) {
        return true;
      }
    }
    return false;
  }

}
