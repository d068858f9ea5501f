package io.lcowgd.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * The validated command line of {@code lcow serve}.
 *
 * @param root data root used until {@code GraphDriver.Init} names a home ({@code --root}, default {@value
 *     #DEFAULT_ROOT})
 * @param socket unix socket to listen on ({@code --socket}; default {@code /run/docker/plugins/<name>.sock}); empty
 *     with {@code --no-socket}
 * @param socketGroup group given access to the socket ({@code --socket-group}: chgrp + mode 0660; otherwise 0600)
 * @param tcp TCP listen address ({@code --tcp HOST:PORT}), loopback unless {@code tcpAllowRemote}
 * @param tcpAllowRemote {@code --tcp-allow-remote}: accept a non-loopback {@code --tcp} address
 * @param specDir where to write {@code <name>.spec} ({@code --write-spec}, directory {@code --spec-dir}, default
 *     {@value #DEFAULT_SPEC_DIR}); empty when no spec file is written
 * @param name plugin name ({@code --name}, default {@value #DEFAULT_NAME}): the spec file and default socket names
 * @param driverOptions the driver options as given (already validated): those of the {@code --opts-env} variable
 *     first, then the {@code --opt lcow.KEY=VALUE} flags, so flags win
 * @param driverConfig {@link DriverConfig#DEFAULTS} with {@code driverOptions} applied
 * @param debug {@code --debug}: log every call
 */
public record ServeConfig(
    Path root,
    Optional<Path> socket,
    Optional<String> socketGroup,
    Optional<HostPort> tcp,
    boolean tcpAllowRemote,
    Optional<Path> specDir,
    String name,
    List<String> driverOptions,
    DriverConfig driverConfig,
    boolean debug) {

  public static final String DEFAULT_ROOT = "/var/lib/lcow";
  public static final String DEFAULT_SOCKET_DIR = "/run/docker/plugins";
  public static final String DEFAULT_SPEC_DIR = "/etc/docker/plugins";
  public static final String DEFAULT_NAME = "lcow";

  /** Longest unix socket path the kernel accepts ({@code sun_path} is 108 bytes with the terminating NUL). */
  public static final int MAX_SOCKET_PATH_BYTES = 107;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  /** The flags, one line each, for usage texts. */
  public static final String USAGE =
      String.join(
          "\n",
          "  --root DIR            data root until Init names one (default " + DEFAULT_ROOT + ")",
          "  --socket PATH         unix socket (default " + DEFAULT_SOCKET_DIR + "/<name>.sock)",
          "  --no-socket           no unix socket (needs --tcp)",
          "  --socket-group GROUP  chgrp the socket to GROUP, mode 0660 (default: mode 0600)",
          "  --tcp HOST:PORT       also listen on TCP (loopback only unless --tcp-allow-remote)",
          "  --tcp-allow-remote    allow a non-loopback --tcp address (no authentication!)",
          "  --write-spec          write <spec-dir>/<name>.spec = tcp://HOST:PORT (needs --tcp)",
          "  --spec-dir DIR        spec directory (default " + DEFAULT_SPEC_DIR + "; implies --write-spec)",
          "  --name NAME           plugin name (default " + DEFAULT_NAME + ")",
          "  --opt lcow.KEY=VALUE  driver option (repeatable): " + String.join(", ", DriverConfig.KEYS),
          "  --opts-env NAME       also read driver options from environment variable NAME (space-separated",
          "                        lcow.KEY=VALUE; --opt flags win); unset or empty means none",
          "  --debug               log every request");

  public ServeConfig {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(socket, "socket");
    Objects.requireNonNull(socketGroup, "socketGroup");
    Objects.requireNonNull(tcp, "tcp");
    Objects.requireNonNull(specDir, "specDir");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(driverConfig, "driverConfig");
    driverOptions = List.copyOf(driverOptions);
    if (!root.isAbsolute()) {
      throw new ConfigException("--root " + root + ": must be absolute");
    }
    if (!NAME.matcher(name).matches()) {
      throw new ConfigException("--name " + name + ": expected letters, digits, '_', '.', '-' (no '/')");
    }
    if (socket.isEmpty() && tcp.isEmpty()) {
      throw new ConfigException("--no-socket: nothing to listen on without --tcp HOST:PORT");
    }
    socket.ifPresent(ServeConfig::checkSocketPath);
    if (socket.isEmpty() && socketGroup.isPresent()) {
      throw new ConfigException("--socket-group " + socketGroup.get() + ": there is no socket (--no-socket)");
    }
    if (specDir.isPresent() && tcp.isEmpty()) {
      throw new ConfigException("--write-spec: a spec file needs --tcp HOST:PORT");
    }
  }

  /** The spec file path, {@code <specDir>/<name>.spec}, when one is written. */
  public Optional<Path> specFile() {
    return specDir.map(d -> d.resolve(name + ".spec"));
  }

  /**
   * Parses the arguments of {@code lcow serve} ({@code --flag VALUE} or {@code --flag=VALUE}).
   *
   * @throws ConfigException naming the flag and value for anything unknown, missing or invalid
   */
  public static ServeConfig parse(List<String> args) {
    return parse(args, System::getenv);
  }

  /**
   * Parses the arguments of {@code lcow serve} like {@link #parse(List)}, reading the variable named by
   * {@code --opts-env} through {@code env} (a managed plugin's settable {@code Env} entries reach the process this
   * way; its entrypoint has no shell to expand them into {@code --opt} flags).
   *
   * @throws ConfigException naming the flag and value for anything unknown, missing or invalid
   */
  public static ServeConfig parse(List<String> args, UnaryOperator<String> env) {
    Path root = Path.of(DEFAULT_ROOT);
    Path socket = null;
    boolean noSocket = false;
    String group = null;
    HostPort tcp = null;
    boolean allowRemote = false;
    boolean writeSpec = false;
    Path specDir = Path.of(DEFAULT_SPEC_DIR);
    String name = DEFAULT_NAME;
    List<String> opts = new ArrayList<>();
    String optsEnv = null;
    boolean debug = false;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String flag = arg;
      String inline = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        inline = arg.substring(eq + 1);
      }
      switch (flag) {
        case "--no-socket", "--tcp-allow-remote", "--write-spec", "--debug" -> {
          if (inline != null) {
            throw new ConfigException(flag + " takes no value (got '" + arg + "')");
          }
          switch (flag) {
            case "--no-socket" -> noSocket = true;
            case "--tcp-allow-remote" -> allowRemote = true;
            case "--write-spec" -> writeSpec = true;
            default -> debug = true;
          }
        }
        case "--root", "--socket", "--socket-group", "--tcp", "--spec-dir", "--name", "--opt", "--opts-env" -> {
          String v;
          if (inline != null) {
            v = inline;
          } else if (i + 1 < args.size()) {
            v = args.get(++i);
          } else {
            throw new ConfigException(flag + ": missing value");
          }
          if (v.isEmpty()) {
            throw new ConfigException(flag + ": empty value");
          }
          switch (flag) {
            case "--root" -> root = Path.of(v).toAbsolutePath().normalize();
            case "--socket" -> socket = Path.of(v).toAbsolutePath().normalize();
            case "--socket-group" -> group = v;
            case "--tcp" -> tcp = HostPort.parse(v);
            case "--spec-dir" -> {
              specDir = Path.of(v).toAbsolutePath().normalize();
              writeSpec = true;
            }
            case "--name" -> name = v;
            case "--opts-env" -> optsEnv = v;
            default -> opts.add(v);
          }
        }
        default -> throw new ConfigException("unknown argument '" + arg + "'");
      }
    }
    if (noSocket && socket != null) {
      throw new ConfigException("--no-socket and --socket " + socket + " contradict each other");
    }
    if (socket == null && !noSocket) {
      socket = Path.of(DEFAULT_SOCKET_DIR, name + ".sock");
    }
    if (optsEnv != null) {
      String value = env.apply(optsEnv);
      List<String> fromEnv = value == null || value.isBlank() ? List.of() : List.of(value.strip().split("\\s+"));
      try {
        DriverConfig.parse(fromEnv);
      } catch (ConfigException e) {
        throw new ConfigException("--opts-env " + optsEnv + " (" + optsEnv + "='" + value + "'): " + e.getMessage(), e);
      }
      List<String> all = new ArrayList<>(fromEnv);
      all.addAll(opts);
      opts = all;
    }
    DriverConfig driver;
    try {
      driver = DriverConfig.parse(opts);
    } catch (ConfigException e) {
      throw new ConfigException("--opt: " + e.getMessage(), e);
    }
    return new ServeConfig(
        root,
        Optional.ofNullable(socket),
        Optional.ofNullable(group),
        Optional.ofNullable(tcp),
        allowRemote,
        writeSpec ? Optional.of(specDir) : Optional.empty(),
        name,
        opts,
        driver,
        debug);
  }

  private static void checkSocketPath(Path p) {
    if (!p.isAbsolute()) {
      throw new ConfigException("--socket " + p + ": must be absolute");
    }
    int len = p.toString().getBytes(StandardCharsets.UTF_8).length;
    if (len > MAX_SOCKET_PATH_BYTES) {
      throw new ConfigException("--socket " + p + ": path is " + len + " bytes, longer than the "
          + MAX_SOCKET_PATH_BYTES + " a unix socket allows");
    }
  }
}
