package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;

/**
 * Header of an external extended attribute block ({@code struct ext4_xattr_header}), 32 bytes, followed by the
 * {@link XattrEntry} table.
 *
 * @param magic {@code h_magic}: {@link Xattr#MAGIC}
 * @param refcount {@code h_refcount}: inodes sharing this block
 * @param blocks {@code h_blocks}: always 1
 * @param hash {@code h_hash}: see {@link Xattr#blockHash}
 * @param checksum {@code h_checksum}: with metadata_csum, see {@link Ext4Checksums#xattrBlock}
 */
public record XattrBlockHeader(int magic, long refcount, long blocks, long hash, long checksum) {
  public static final int SIZE = 32;

  public static final int H_MAGIC = 0x0;
  public static final int H_REFCOUNT = 0x4;
  public static final int H_BLOCKS = 0x8;
  public static final int H_HASH = 0xC;
  public static final int H_CHECKSUM = 0x10;
  public static final int H_RESERVED = 0x14;

  public static XattrBlockHeader decode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    return new XattrBlockHeader(
        (int) Le.u32(b, H_MAGIC), Le.u32(b, H_REFCOUNT), Le.u32(b, H_BLOCKS), Le.u32(b, H_HASH), Le.u32(b, H_CHECKSUM));
  }

  /** Writes the header (reserved words zero) at {@code buf}'s position and advances. */
  public void encode(ByteBuffer buf) {
    ByteBuffer b = Le.take(buf, SIZE);
    Le.put32(b, H_MAGIC, magic & 0xFFFF_FFFFL);
    Le.put32(b, H_REFCOUNT, refcount);
    Le.put32(b, H_BLOCKS, blocks);
    Le.put32(b, H_HASH, hash);
    Le.put32(b, H_CHECKSUM, checksum);
    for (int i = H_RESERVED; i < SIZE; i++) {
      b.put(i, (byte) 0);
    }
  }
}
