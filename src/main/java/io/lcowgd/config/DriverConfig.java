package io.lcowgd.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The daemon-wide {@code lcow.*} options of the original LCOW driver, validated.
 *
 * <p>Sources, in increasing precedence: {@link #DEFAULTS}, {@code lcow serve --opt lcow.KEY=VALUE}, then the {@code
 * Opts} of {@code GraphDriver.Init} (dockerd's {@code --storage-opt} list). Apply them with {@link
 * #withOptions(List)}. Keys are case-insensitive. Every option must be an {@code lcow.*} key listed here: dockerd
 * forwards {@code --storage-opt} verbatim, so a stray {@code size=10G} or {@code overlay2.x=y} would otherwise be
 * silently ignored; it is an error instead.
 *
 * @param globalMode {@code lcow.globalmode}: one service VM for everything (true) or one per layer operation (false,
 *     the default, the original's "safe mode")
 * @param sandboxSizeGb {@code lcow.sandboxsize}: default size of a container sandbox in GiB, at least {@value
 *     #MIN_SANDBOX_SIZE_GB} (the original's {@code DefaultVhdxSizeGB})
 * @param timeout {@code lcow.timeout}: bound on every service-VM operation; {@code 0} means the default of 300 s, as in
 *     opengcs
 * @param kirdPath {@code lcow.kirdpath}: directory holding the service VM's kernel and initrd (absolute); empty when
 *     not set, for backends that need none
 * @param kernel {@code lcow.kernel}: kernel file name under {@code kirdPath} (default {@code kernel})
 * @param initrd {@code lcow.initrd}: initrd file name under {@code kirdPath} (default {@code initrd.img})
 * @param bootParameters {@code lcow.bootparameters}: extra kernel command line (default empty)
 * @param svm {@code lcow.svm}: which service-VM backend runs the work (default {@link SvmBackend#HOST})
 */
public record DriverConfig(
    boolean globalMode,
    int sandboxSizeGb,
    Duration timeout,
    Optional<Path> kirdPath,
    String kernel,
    String initrd,
    String bootParameters,
    SvmBackend svm) {

  /** The original's minimum (and default) sandbox size, {@code client.DefaultVhdxSizeGB}. */
  public static final int MIN_SANDBOX_SIZE_GB = 20;

  /** Largest sandbox accepted: 64 TiB, the VHDX format's limit. */
  public static final int MAX_SANDBOX_SIZE_GB = 64 * 1024;

  /** opengcs's {@code defaultUvmTimeoutSeconds}, used when {@code lcow.timeout} is 0 or absent. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(300);

  /** Every default, as the original had them (with {@code lcow.kernel} = {@code kernel}, opengcs v0.3.8+). */
  public static final DriverConfig DEFAULTS =
      new DriverConfig(
          false, MIN_SANDBOX_SIZE_GB, DEFAULT_TIMEOUT, Optional.empty(), "kernel", "initrd.img", "", SvmBackend.HOST);

  /** The keys this record understands, lower-case. */
  public static final List<String> KEYS =
      List.of(
          "lcow.globalmode",
          "lcow.sandboxsize",
          "lcow.timeout",
          "lcow.kirdpath",
          "lcow.kernel",
          "lcow.initrd",
          "lcow.bootparameters",
          "lcow.svm");

  public DriverConfig {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(kirdPath, "kirdPath");
    Objects.requireNonNull(kernel, "kernel");
    Objects.requireNonNull(initrd, "initrd");
    Objects.requireNonNull(bootParameters, "bootParameters");
    Objects.requireNonNull(svm, "svm");
    if (sandboxSizeGb < MIN_SANDBOX_SIZE_GB || sandboxSizeGb > MAX_SANDBOX_SIZE_GB) {
      throw new ConfigException("sandboxSizeGb " + sandboxSizeGb + " outside [" + MIN_SANDBOX_SIZE_GB + ", "
          + MAX_SANDBOX_SIZE_GB + "]");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException("timeout " + timeout + " must be positive");
    }
    if (kirdPath.isPresent() && !kirdPath.get().isAbsolute()) {
      throw new ConfigException("kirdPath " + kirdPath.get() + " must be absolute");
    }
  }

  /** {@link #DEFAULTS} with {@code options} applied; see {@link #withOptions(List)}. */
  public static DriverConfig parse(List<String> options) {
    return DEFAULTS.withOptions(options);
  }

  /**
   * This configuration with {@code options} ({@code lcow.KEY=VALUE} strings, keys case-insensitive, later ones win)
   * applied on top. {@code null} or empty means no change.
   *
   * @throws ConfigException naming the option for a malformed option, an unknown or non-{@code lcow.} key, or a bad
   *     value
   */
  public DriverConfig withOptions(List<String> options) {
    if (options == null || options.isEmpty()) {
      return this;
    }
    boolean global = globalMode;
    int size = sandboxSizeGb;
    Duration to = timeout;
    Optional<Path> kird = kirdPath;
    String kern = kernel;
    String init = initrd;
    String boot = bootParameters;
    SvmBackend backend = svm;
    for (String option : options) {
      OptionValues.KeyValue kv = OptionValues.KeyValue.split(option);
      String key = kv.key();
      String v = kv.value();
      switch (key) {
        case "lcow.globalmode" -> global = OptionValues.parseBool(key, v);
        case "lcow.sandboxsize" ->
            size = OptionValues.parseInt(key, v, MIN_SANDBOX_SIZE_GB, MAX_SANDBOX_SIZE_GB, "GB");
        case "lcow.timeout" -> {
          int s = OptionValues.parseInt(key, v, 0, 7 * 24 * 3600, "seconds");
          to = s == 0 ? DEFAULT_TIMEOUT : Duration.ofSeconds(s);
        }
        case "lcow.kirdpath" -> {
          if (v.isEmpty()) {
            kird = Optional.empty();
          } else {
            Path p = Path.of(v);
            if (!p.isAbsolute()) {
              throw new ConfigException(key + "=" + v + ": must be an absolute directory path");
            }
            kird = Optional.of(p.normalize());
          }
        }
        case "lcow.kernel" -> kern = fileName(key, v);
        case "lcow.initrd" -> init = fileName(key, v);
        case "lcow.bootparameters" -> boot = v;
        case "lcow.svm" -> backend = SvmBackend.parse(key, v);
        case "lcow.vhdx" ->
            throw new ConfigException(key + "=" + v + ": booting the service VM from a VHDX is not supported "
                + "(removed upstream in opengcs 2d551da); use lcow.kirdpath, lcow.kernel and lcow.initrd");
        default -> throw unknownKey(option, key);
      }
    }
    return new DriverConfig(global, size, to, kird, kern, init, boot, backend);
  }

  /** The options that reproduce this configuration from {@link #DEFAULTS}, in {@link #KEYS} order. */
  public List<String> toOptions() {
    List<String> out = new ArrayList<>();
    out.add("lcow.globalmode=" + globalMode);
    out.add("lcow.sandboxsize=" + sandboxSizeGb);
    out.add("lcow.timeout=" + timeout.toSeconds());
    out.add("lcow.kirdpath=" + kirdPath.map(Path::toString).orElse(""));
    out.add("lcow.kernel=" + kernel);
    out.add("lcow.initrd=" + initrd);
    out.add("lcow.bootparameters=" + bootParameters);
    out.add("lcow.svm=" + svm.optionValue());
    return out;
  }

  private static String fileName(String key, String v) {
    if (v.isEmpty() || v.contains("/") || v.equals(".") || v.equals("..")) {
      throw new ConfigException(key + "=" + v + ": expected a file name under lcow.kirdpath");
    }
    return v;
  }

  static ConfigException unknownKey(String option, String key) {
    if (!key.startsWith("lcow.")) {
      return new ConfigException("option '" + option + "': unsupported key '" + key
          + "' (lcow-graphdriver accepts only lcow.* options: " + String.join(", ", KEYS) + ")");
    }
    return new ConfigException("option '" + option + "': unknown key '" + key + "' (known: "
        + String.join(", ", KEYS) + ")");
  }
}
