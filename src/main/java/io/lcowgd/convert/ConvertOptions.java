package io.lcowgd.convert;

/**
 * Immutable settings of {@link TarToExt4#convert}.
 *
 * @param convertWhiteouts turn AUFS whiteouts ({@code .wh.<name>}, {@code .wh..wh..opq}) into overlay whiteouts
 *     (0/0 character devices, {@code trusted.overlay.opaque=y}); when false they are stored as ordinary files
 * @param appendVhdFooter append the 512-byte fixed-VHD footer after the ext4 image
 * @param maxDiskSize largest ext4 image allowed, in bytes; a layer needing more fails
 */
public record ConvertOptions(boolean convertWhiteouts, boolean appendVhdFooter, long maxDiskSize) {
  /** Default {@link #maxDiskSize}: 128 GiB, the value moby passes to tar2ext4. */
  public static final long DEFAULT_MAX_DISK_SIZE = 128L << 30;

  public ConvertOptions {
    if (maxDiskSize < (1 << 20) || maxDiskSize > io.lcowgd.ext4.Ext4Writer.MAX_DISK_SIZE_LIMIT) {
      throw new IllegalArgumentException("maxDiskSize must be between 1 MiB and 16 TiB, got " + maxDiskSize);
    }
  }

  /** Whiteouts converted, VHD footer appended, 128 GiB maximum. */
  public static ConvertOptions defaults() {
    return new ConvertOptions(true, true, DEFAULT_MAX_DISK_SIZE);
  }

  public ConvertOptions withConvertWhiteouts(boolean v) {
    return new ConvertOptions(v, appendVhdFooter, maxDiskSize);
  }

  public ConvertOptions withAppendVhdFooter(boolean v) {
    return new ConvertOptions(convertWhiteouts, v, maxDiskSize);
  }

  public ConvertOptions withMaxDiskSize(long bytes) {
    return new ConvertOptions(convertWhiteouts, appendVhdFooter, bytes);
  }
}
