package io.lcowgd.config;

import java.util.Map;

/**
 * Per-container options from the {@code StorageOpt} map of {@code GraphDriver.CreateReadWrite} ({@code docker create
 * --storage-opt}), validated against the daemon-wide {@link DriverConfig}.
 *
 * <p>Accepted keys (case-insensitive):
 *
 * <ul>
 *   <li>{@code lcow.sandboxsize}: sandbox size in whole GiB, at least {@value DriverConfig#MIN_SANDBOX_SIZE_GB}, as in
 *       the original driver;
 *   <li>{@code size}: dockerd's generic quota key ({@code docker create --storage-opt size=30G}), read like docker's
 *       {@code units.RAMInBytes} (binary units). It must be at least {@value DriverConfig#MIN_SANDBOX_SIZE_GB} GiB
 *       (the smallest sandbox), so a smaller {@code size} is an error rather than a silently larger disk; a size
 *       that is not a whole number of GiB is rounded <em>up</em> to one. If both keys are given they must agree.
 * </ul>
 *
 * <p>Any other key is an error naming it.
 *
 * @param sandboxSizeGb size of the container's {@code sandbox.vhdx} in GiB
 */
public record LayerOptions(int sandboxSizeGb) {

  public LayerOptions {
    if (sandboxSizeGb < DriverConfig.MIN_SANDBOX_SIZE_GB || sandboxSizeGb > DriverConfig.MAX_SANDBOX_SIZE_GB) {
      throw new ConfigException("sandboxSizeGb " + sandboxSizeGb + " outside [" + DriverConfig.MIN_SANDBOX_SIZE_GB
          + ", " + DriverConfig.MAX_SANDBOX_SIZE_GB + "]");
    }
  }

  /** The options of a layer with no {@code StorageOpt}: the daemon-wide sandbox size. */
  public static LayerOptions defaults(DriverConfig driver) {
    return new LayerOptions(driver.sandboxSizeGb());
  }

  /**
   * Parses {@code storageOpt} (null or empty: {@link #defaults}).
   *
   * @throws ConfigException naming the key and value for an unknown key, a bad number, a size below the minimum, or
   *     {@code size} and {@code lcow.sandboxsize} disagreeing
   */
  public static LayerOptions parse(Map<String, String> storageOpt, DriverConfig driver) {
    if (storageOpt == null || storageOpt.isEmpty()) {
      return defaults(driver);
    }
    Integer fromLcow = null;
    Integer fromSize = null;
    String sizeText = null;
    for (Map.Entry<String, String> e : storageOpt.entrySet()) {
      String raw = e.getKey() == null ? "" : e.getKey();
      String key = raw.toLowerCase(java.util.Locale.ROOT);
      String v = e.getValue() == null ? "" : e.getValue();
      switch (key) {
        case "lcow.sandboxsize" ->
            fromLcow = OptionValues.parseInt(
                raw, v, DriverConfig.MIN_SANDBOX_SIZE_GB, DriverConfig.MAX_SANDBOX_SIZE_GB, "GB");
        case "size" -> {
          long bytes = OptionValues.parseBytes(raw, v);
          long gib = (bytes + OptionValues.GIB - 1) / OptionValues.GIB;
          if (bytes < DriverConfig.MIN_SANDBOX_SIZE_GB * OptionValues.GIB) {
            throw new ConfigException(raw + "=" + v + ": a sandbox is at least " + DriverConfig.MIN_SANDBOX_SIZE_GB
                + " GB (use size=" + DriverConfig.MIN_SANDBOX_SIZE_GB + "G or more)");
          }
          if (gib > DriverConfig.MAX_SANDBOX_SIZE_GB) {
            throw new ConfigException(raw + "=" + v + ": larger than the maximum sandbox size of "
                + DriverConfig.MAX_SANDBOX_SIZE_GB + " GB");
          }
          fromSize = (int) gib;
          sizeText = raw + "=" + v;
        }
        default -> throw new ConfigException("storage option '" + raw + "=" + v + "': unknown key '" + raw
            + "' (per-container options: lcow.sandboxsize, size)");
      }
    }
    if (fromLcow != null && fromSize != null && !fromLcow.equals(fromSize)) {
      throw new ConfigException("storage options lcow.sandboxsize=" + fromLcow + " and " + sizeText
          + " disagree (" + fromSize + " GB)");
    }
    int size = fromLcow != null ? fromLcow : fromSize != null ? fromSize : driver.sandboxSizeGb();
    return new LayerOptions(size);
  }
}
