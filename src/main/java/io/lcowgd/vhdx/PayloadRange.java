package io.lcowgd.vhdx;

/**
 * Where a VHDX keeps its virtual disk as one contiguous run of bytes: virtual offset {@code v} lives at file offset
 * {@code offset + v}, for {@code 0 <= v < length}. A loop device attached with {@code --offset offset --sizelimit
 * length} shows exactly the virtual disk.
 */
public record PayloadRange(long offset, long length) {
  public PayloadRange {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative payload range " + offset + "+" + length);
    }
  }
}
