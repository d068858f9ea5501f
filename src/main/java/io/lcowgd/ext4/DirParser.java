package io.lcowgd.ext4;

import io.lcowgd.ext4.format.DirectoryEntry;
import io.lcowgd.ext4.format.Ext4Checksums;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Parses linear directory blocks ({@code struct ext4_dir_entry_2} records), verifying the leaf-block checksum tail or,
 * for htree index blocks (which hold no entries when read linearly), the {@code dx_tail} checksum.
 */
public final class DirParser {
  /** Directories larger than this many entries are rejected, which bounds memory on hostile images. */
  public static final int MAX_ENTRIES = 4_000_000;

  private DirParser() {}

  /** Parses one directory block of {@code dir} at logical block {@code lblk}; adds entries other than . and ..  */
  static void block(Ext4Reader fs, Ext4Inode dir, long lblk, long pblk, byte[] b, List<DirEntry> out)
      throws Ext4Exception {
    int bs = b.length;
    String where = "directory block " + pblk + " (logical " + lblk + ") of inode " + dir.number();
    int end = bs;
    if (fs.superblock().metadataCsum()) {
      int t = bs - DirectoryEntry.TAIL_SIZE;
      boolean tail = Ext4Inode.le32(b, t + DirectoryEntry.INODE) == 0
          && Ext4Inode.le16(b, t + DirectoryEntry.REC_LEN) == DirectoryEntry.TAIL_SIZE
          && b[t + DirectoryEntry.NAME_LEN] == 0 && (b[t + DirectoryEntry.FILE_TYPE] & 0xFF) == DirectoryEntry.FT_TAIL;
      if (dir.hasFlag(Ext4Inode.FLAG_INDEX) && isDxBlock(b, lblk)) {
        // Checked first: a root converted from a leaf block keeps the old leaf tail bytes under its dx_tail.
        verifyDx(fs, dir, b, lblk, where);
      } else if (tail) {
        int want = Ext4Inode.le32(b, bs - 4);
        int got = Ext4Checksums.dirBlock(fs.checksumSeed(), dir.number(), dir.generation(), ByteBuffer.wrap(b), bs);
        if (want != got) {
          throw new Ext4Exception(where + ": checksum mismatch (stored 0x" + Integer.toHexString(want)
              + ", computed 0x" + Integer.toHexString(got) + ")");
        }
        end = t;
      } else {
        throw new Ext4Exception(where + ": no checksum tail although metadata_csum is enabled");
      }
    }
    entries(fs, b, 0, end, out, where, fs.superblock().blockSize() == 65536);
  }

  private static boolean isDxBlock(byte[] b, long lblk) {
    int bs = b.length;
    if (lblk == 0) {
      return Ext4Inode.le16(b, 4) == 12 && recLen(b, 12 + 4) == bs - 12 && b[24 + 5] == 8;
    }
    return Ext4Inode.le32(b, 0) == 0 && recLen(b, 4) == bs;
  }

  private static int recLen(byte[] b, int off) {
    int r = Ext4Inode.le16(b, off);
    return b.length == 65536 && (r == 0 || r == 65535) ? 65536 : r;
  }

  private static void verifyDx(Ext4Reader fs, Ext4Inode dir, byte[] b, long lblk, String where)
      throws Ext4Exception {
    int countOff = lblk == 0 ? 24 + (b[24 + 5] & 0xFF) : 8;
    if (countOff + 4 > b.length) {
      throw new Ext4Exception(where + ": htree node header out of range");
    }
    int limit = Ext4Inode.le16(b, countOff);
    int count = Ext4Inode.le16(b, countOff + 2);
    int tail = countOff + limit * 8;
    if (count > limit || tail + 8 > b.length) {
      throw new Ext4Exception(where + ": htree node count " + count + " / limit " + limit + " out of range");
    }
    int crc = Crc32c.update(fs.inodeSeed(dir), b, 0, countOff + count * 8);
    crc = Crc32c.update(crc, b, tail, 4);
    crc = Crc32c.updateZeros(crc, 4);
    int want = Ext4Inode.le32(b, tail + 4);
    if (crc != want) {
      throw new Ext4Exception(where + ": htree node checksum mismatch (stored 0x" + Integer.toHexString(want)
          + ", computed 0x" + Integer.toHexString(crc) + ")");
    }
  }

  /** Parses the records in {@code b[from, end)}; every record must lie inside the region. */
  static void entries(Ext4Reader fs, byte[] b, int from, int end, List<DirEntry> out, String where,
      boolean bigBlocks) throws Ext4Exception {
    int p = from;
    long maxIno = fs.superblock().inodesCount();
    while (p < end) {
      if (p + DirectoryEntry.HEADER_SIZE > end) {
        throw new Ext4Exception(where + ": truncated directory entry at offset " + (p - from));
      }
      long ino = Ext4Inode.le32(b, p + DirectoryEntry.INODE) & 0xFFFFFFFFL;
      int recLen = Ext4Inode.le16(b, p + DirectoryEntry.REC_LEN);
      if (bigBlocks && (recLen == 65535 || recLen == 0)) {
        recLen = 65536;
      }
      int nameLen = b[p + DirectoryEntry.NAME_LEN] & 0xFF;
      int name = p + DirectoryEntry.NAME;
      if (recLen < DirectoryEntry.HEADER_SIZE || (recLen & 3) != 0 || p + recLen > end
          || (ino != 0 && DirectoryEntry.HEADER_SIZE + nameLen > recLen)) {
        throw new Ext4Exception(where + ": bad directory entry at offset " + (p - from) + " (rec_len " + recLen
            + ", name_len " + nameLen + ")");
      }
      if (ino != 0) {
        if (ino > maxIno || nameLen == 0) {
          throw new Ext4Exception(where + ": directory entry at offset " + (p - from) + " has invalid inode " + ino
              + " or empty name");
        }
        boolean dot = (nameLen == 1 && b[name] == '.') || (nameLen == 2 && b[name] == '.' && b[name + 1] == '.');
        if (!dot) {
          for (int i = 0; i < nameLen; i++) {
            if (b[name + i] == '/' || b[name + i] == 0) {
              throw new Ext4Exception(where + ": directory entry name contains '/' or NUL");
            }
          }
          if (out.size() >= MAX_ENTRIES) {
            throw new Ext4Exception(where + ": more than " + MAX_ENTRIES + " directory entries");
          }
          out.add(new DirEntry(java.util.Arrays.copyOfRange(b, name, name + nameLen), ino));
        }
      }
      p += recLen;
    }
  }
}
