package io.lcowgd.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How e2fsprogs' {@code mke2fs} makes an empty sandbox ext4, whoever runs it (the host or a service VM): a pinned
 * {@code mke2fs.conf} ({@code MKE2FS_CONFIG}), the options, and the {@code -E} extended options except the payload
 * offset and the way inode tables are known to be zero, which depend on where it runs (see {@link
 * #arguments(long, String)}).
 *
 * @param config the text of the {@code mke2fs.conf} to use
 * @param options options such as {@code -t ext4 -b 4096 -O ...}
 * @param extended the common {@code -E} options, comma-separated
 * @param blockSize the filesystem block size the options set (the block count argument is in these units)
 */
public record Mke2fsSpec(String config, List<String> options, String extended, int blockSize) {
  /** Host: on a regular file a discard punches the range and reads back as zeros, so mke2fs marks tables zeroed. */
  public static final String HOST_ZEROING = "discard";
  /**
   * Guest: a block device cannot tell mke2fs that discarded blocks read as zeros (and discarding 20 GiB through UML's
   * ubd takes seconds), but a fresh template's payload is a hole, so the guest says so (e2fsprogs 1.47+): the same
   * zeroed-table marks as the host's discard, without the discard.
   */
  public static final String PREZEROED = "nodiscard,assume_storage_prezeroed=1";

  public Mke2fsSpec {
    Objects.requireNonNull(config, "config");
    options = List.copyOf(options);
    Objects.requireNonNull(extended, "extended");
    if (blockSize <= 0 || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException("block size " + blockSize + " is not a power of two");
    }
  }

  /**
   * The arguments that go before the device: {@code -q -F <options> -E offset=<offset>,<zeroing>,<extended>}, where
   * {@code zeroing} is {@link #HOST_ZEROING} or {@link #PREZEROED}.
   */
  public List<String> arguments(long offset, String zeroing) {
    List<String> a = new ArrayList<>(List.of("-q", "-F"));
    a.addAll(options);
    a.add("-E");
    a.add("offset=" + offset + "," + zeroing + (extended.isEmpty() ? "" : "," + extended));
    return a;
  }
}
