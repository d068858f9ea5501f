package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A linear directory entry ({@code struct ext4_dir_entry_2}, used with the {@code filetype} feature): 8-byte header
 * plus the name, padded to a multiple of 4; {@code rec_len} may span further to cover the rest of the block.
 *
 * @param inode {@code inode}: 0 for an unused entry
 * @param recLen {@code rec_len}: distance to the next entry
 * @param fileType {@code file_type}: one of the {@code FT_*} constants
 * @param name the name bytes ({@code name_len} of them)
 */
public record DirectoryEntry(long inode, int recLen, int fileType, byte[] name) {
  /** Size of the fixed header. */
  public static final int HEADER_SIZE = 8;
  /** Longest name. */
  public static final int MAX_NAME_LEN = 255;
  /** Size of the checksum tail ({@code struct ext4_dir_entry_tail}) at the end of each block with metadata_csum. */
  public static final int TAIL_SIZE = 12;
  /** {@code det_reserved_ft} of the checksum tail. */
  public static final int FT_TAIL = 0xDE;

  public static final int FT_UNKNOWN = 0, FT_REG_FILE = 1, FT_DIR = 2, FT_CHRDEV = 3, FT_BLKDEV = 4, FT_FIFO = 5,
      FT_SOCK = 6, FT_SYMLINK = 7;

  public static final int INODE = 0x0;
  public static final int REC_LEN = 0x4;
  public static final int NAME_LEN = 0x6;
  public static final int FILE_TYPE = 0x7;
  public static final int NAME = 0x8;

  /** The smallest {@code rec_len} for a name of {@code nameLen} bytes: header + name rounded up to 4. */
  public static int minRecLen(int nameLen) {
    return (HEADER_SIZE + nameLen + 3) & ~3;
  }

  /** The {@code FT_*} value for an inode mode's file type bits. */
  public static int fileTypeOf(int mode) {
    switch (mode & Inode.S_IFMT) {
      case Inode.S_IFREG: return FT_REG_FILE;
      case Inode.S_IFDIR: return FT_DIR;
      case Inode.S_IFCHR: return FT_CHRDEV;
      case Inode.S_IFBLK: return FT_BLKDEV;
      case Inode.S_IFIFO: return FT_FIFO;
      case Inode.S_IFSOCK: return FT_SOCK;
      case Inode.S_IFLNK: return FT_SYMLINK;
      default: return FT_UNKNOWN;
    }
  }

  /** The name decoded as UTF-8 (for messages; names are bytes on disk). */
  public String nameString() {
    return new String(name, StandardCharsets.UTF_8);
  }

  /** True if this is a metadata_csum tail entry rather than a real entry. */
  public boolean isTail() {
    return inode == 0 && recLen == TAIL_SIZE && name.length == 0 && fileType == FT_TAIL;
  }

  /**
   * Reads one entry at {@code buf}'s position and advances by its {@code rec_len}. Throws
   * {@link IllegalArgumentException} if {@code rec_len} is smaller than the header and name or runs past the buffer.
   */
  public static DirectoryEntry decode(ByteBuffer buf) {
    ByteBuffer h = Le.take(buf.duplicate(), HEADER_SIZE);
    long inode = Le.u32(h, INODE);
    int recLen = Le.u16(h, REC_LEN);
    int nameLen = Le.u8(h, NAME_LEN);
    int fileType = Le.u8(h, FILE_TYPE);
    if (recLen < HEADER_SIZE + nameLen || recLen % 4 != 0 || recLen > buf.remaining()) {
      throw new IllegalArgumentException(
          "bad directory entry: rec_len " + recLen + ", name_len " + nameLen + ", " + buf.remaining() + " bytes left");
    }
    ByteBuffer b = Le.take(buf, recLen);
    return new DirectoryEntry(inode, recLen, fileType, Le.bytes(b, NAME, nameLen));
  }

  /** Writes the entry (header, name, zero padding up to {@code rec_len}) and advances by {@code rec_len}. */
  public void encode(ByteBuffer buf) {
    if (name.length > MAX_NAME_LEN || recLen < HEADER_SIZE + name.length) {
      throw new IllegalArgumentException("bad directory entry: rec_len " + recLen + ", name_len " + name.length);
    }
    ByteBuffer b = Le.take(buf, recLen);
    Le.put32(b, INODE, inode);
    Le.put16(b, REC_LEN, recLen);
    Le.put8(b, NAME_LEN, name.length);
    Le.put8(b, FILE_TYPE, fileType);
    b.put(NAME, name);
    for (int i = NAME + name.length; i < recLen; i++) {
      b.put(i, (byte) 0);
    }
  }

  /** Writes a 12-byte metadata_csum tail entry holding {@code checksum}, advancing the position. */
  public static void encodeTail(ByteBuffer buf, long checksum) {
    ByteBuffer b = Le.take(buf, TAIL_SIZE);
    Le.put32(b, INODE, 0);
    Le.put16(b, REC_LEN, TAIL_SIZE);
    Le.put8(b, NAME_LEN, 0);
    Le.put8(b, FILE_TYPE, FT_TAIL);
    Le.put32(b, 8, checksum);
  }
}
