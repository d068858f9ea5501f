package io.lcowgd.disk;

/**
 * The byte range {@code [offset, offset+length)} of an image file that holds the virtual disk (the filesystem):
 * virtual offset {@code v} lives at file offset {@code offset + v}, for {@code 0 <= v < length}; {@code offset} is not
 * negative and {@code length} is positive. For a fixed VHD it is the file minus its 512-byte footer; for a VHDX it is
 * the contiguous payload the VHDX reader reports. A loop device attached with {@code --offset offset --sizelimit
 * length} shows exactly the virtual disk.
 */
public record PayloadRange(long offset, long length) {
  public PayloadRange {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("invalid payload range " + offset + "+" + length);
    }
  }
}
