package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * One extended attribute entry ({@code struct ext4_xattr_entry}): 16-byte header plus the name suffix, padded to 4.
 * The value lives elsewhere in the same area at {@code valueOffs}. A 4-byte zero where an entry would start ends the
 * list ({@link #isEnd}).
 *
 * @param nameIndex {@code e_name_index}: see {@link Xattr#PREFIXES}
 * @param valueOffs {@code e_value_offs}
 * @param valueInum {@code e_value_inum}: inode holding the value with {@code ea_inode}, else 0
 * @param valueSize {@code e_value_size}
 * @param hash {@code e_hash}: see {@link Xattr#entryHash}
 * @param name the stored name suffix ({@code e_name_len} bytes)
 */
public record XattrEntry(int nameIndex, int valueOffs, long valueInum, long valueSize, long hash, byte[] name) {
  public static final int HEADER_SIZE = 16;

  public static final int E_NAME_LEN = 0x0;
  public static final int E_NAME_INDEX = 0x1;
  public static final int E_VALUE_OFFS = 0x2;
  public static final int E_VALUE_INUM = 0x4;
  public static final int E_VALUE_SIZE = 0x8;
  public static final int E_HASH = 0xC;
  public static final int E_NAME = 0x10;

  /** True if the 4 bytes at {@code buf}'s position are zero (end of the entry list); does not move the position. */
  public static boolean isEnd(ByteBuffer buf) {
    return buf.remaining() < 4 || buf.getInt(buf.position()) == 0;
  }

  /** Bytes this entry occupies in the entry table. */
  public int size() {
    return Xattr.entrySize(name.length);
  }

  /** Reads one entry at {@code buf}'s position and advances past it (header, name, padding). */
  public static XattrEntry decode(ByteBuffer buf) {
    ByteBuffer h = Le.take(buf.duplicate(), HEADER_SIZE);
    int nameLen = Le.u8(h, E_NAME_LEN);
    ByteBuffer b = Le.take(buf, Xattr.entrySize(nameLen));
    return new XattrEntry(
        Le.u8(b, E_NAME_INDEX),
        Le.u16(b, E_VALUE_OFFS),
        Le.u32(b, E_VALUE_INUM),
        Le.u32(b, E_VALUE_SIZE),
        Le.u32(b, E_HASH),
        Le.bytes(b, E_NAME, nameLen));
  }

  /** Writes the entry (header, name, zero padding) at {@code buf}'s position and advances past it. */
  public void encode(ByteBuffer buf) {
    if (name.length > 255) {
      throw new IllegalArgumentException("xattr name longer than 255 bytes");
    }
    ByteBuffer b = Le.take(buf, size());
    Le.put8(b, E_NAME_LEN, name.length);
    Le.put8(b, E_NAME_INDEX, nameIndex);
    Le.put16(b, E_VALUE_OFFS, valueOffs);
    Le.put32(b, E_VALUE_INUM, valueInum);
    Le.put32(b, E_VALUE_SIZE, valueSize);
    Le.put32(b, E_HASH, hash);
    b.put(E_NAME, name);
    for (int i = E_NAME + name.length; i < size(); i++) {
      b.put(i, (byte) 0);
    }
  }
}
