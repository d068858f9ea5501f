package io.lcowgd.svm;

/**
 * The byte range of an image file that holds the filesystem: {@code [offset, offset+length)}. For a fixed VHD it is
 * the file minus its 512-byte footer; for a VHDX it is the payload the VHDX code reports.
 */
public record PayloadRange(long offset, long length) {
  public PayloadRange {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException("invalid payload range " + offset + "+" + length);
    }
  }
}
