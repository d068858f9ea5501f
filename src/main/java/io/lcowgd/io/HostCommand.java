package io.lcowgd.io;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs one short host command (a helper such as {@code uml_mconsole}, {@code nsenter}, {@code mkfifo} or
 * {@code mke2fs}) to completion and returns its output (stdout and stderr merged, standard input from
 * {@code /dev/null}), or fails naming what it was for, the command line and the reason: a non-zero status (with the
 * output), no exit within the timeout (default 30 s), an interrupt, or the caller's give-up condition
 * ({@link #abandonWhen}) turning true meanwhile. The command is killed (SIGKILL) whenever it is not waited for to the
 * end. Instances are immutable; the {@code with}-style methods return copies.
 */
public final class HostCommand {
  /** Without {@link #timeout}: how long a command may run. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** How often the output is drained and the give-up condition checked while the command runs. */
  private static final long POLL_MILLIS = 20;

  private final List<String> argv;
  private final String what;
  private final Duration timeout;
  private final Map<String, String> environment;
  private final BooleanSupplier giveUp;
  private final String giveUpReason;

  private HostCommand(List<String> argv, String what, Duration timeout, Map<String, String> environment,
      BooleanSupplier giveUp, String giveUpReason) {
    this.argv = argv;
    this.what = what;
    this.timeout = timeout;
    this.environment = environment;
    this.giveUp = giveUp;
    this.giveUpReason = giveUpReason;
  }

  /** The command {@code argv} (program first), run for {@code what} (the start of every error message). */
  public static HostCommand of(List<String> argv, String what) {
    if (argv.isEmpty()) {
      throw new IllegalArgumentException("empty command line for " + what);
    }
    return new HostCommand(List.copyOf(argv), Objects.requireNonNull(what), DEFAULT_TIMEOUT, Map.of(), null, null);
  }

  /** This command, killed and reported as failed if it has not exited after {@code limit}. */
  public HostCommand timeout(Duration limit) {
    if (limit.isNegative() || limit.isZero()) {
      throw new IllegalArgumentException("timeout of " + what + " must be positive: " + limit);
    }
    return new HostCommand(argv, what, limit, environment, giveUp, giveUpReason);
  }

  /** This command with environment variable {@code name} set to {@code value} (on top of this JVM's environment). */
  public HostCommand environment(String name, String value) {
    Map<String, String> env = new LinkedHashMap<>(environment);
    env.put(name, value);
    return new HostCommand(argv, what, timeout, Map.copyOf(env), giveUp, giveUpReason);
  }

  /**
   * This command, killed and reported as {@link Abandoned} (message {@code <what>: <reason>}) as soon as
   * {@code condition} is true while it runs (checked every 20 ms), e.g. when the peer it talks to has exited and it
   * would wait for an answer forever.
   */
  public HostCommand abandonWhen(BooleanSupplier condition, String reason) {
    return new HostCommand(argv, what, timeout, environment, Objects.requireNonNull(condition),
        Objects.requireNonNull(reason));
  }

  /** The command was given up because the {@link #abandonWhen} condition turned true while it ran. */
  public static final class Abandoned extends IOException {
    Abandoned(String message) {
      super(message);
    }
  }

  /**
   * Starts the command, waits for it and returns its merged output.
   *
   * @throws Abandoned if the {@link #abandonWhen} condition turned true first
   * @throws InterruptedIOException if this thread was interrupted (its interrupt flag is set again)
   * @throws IOException if it cannot start, exits with a non-zero status, or runs past the timeout
   */
  public String run() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(environment);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new IOException(what + ": cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    InputStream in = p.getInputStream();
    try {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!p.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        drainAvailable(in, out); // a chatty command must not block on a full pipe
        if (giveUp != null && giveUp.getAsBoolean()) {
          p.destroyForcibly();
          throw new Abandoned(what + ": " + giveUpReason);
        }
        if (System.nanoTime() - deadline > 0) {
          p.destroyForcibly();
          throw new IOException(what + ": " + argv.get(0) + " did not finish in " + seconds(timeout) + " s");
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      InterruptedIOException ie = new InterruptedIOException(what + ": interrupted");
      ie.initCause(e);
      throw ie;
    }
    // The command exited: what it wrote is in the pipe; a background child keeping the pipe open is not waited for.
    drainAvailable(in, out);
    in.close();
    String text = out.toString(StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(what + ": " + String.join(" ", argv) + " failed with status " + p.exitValue() + ": "
          + text.strip());
    }
    return text;
  }

  private static void drainAvailable(InputStream in, ByteArrayOutputStream out) throws IOException {
    byte[] buf = new byte[8192];
    for (int n; in.available() > 0 && (n = in.read(buf, 0, Math.min(buf.length, in.available()))) > 0; ) {
      out.write(buf, 0, n);
    }
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : String.format("%.1f", d.toMillis() / 1000.0);
  }

  @Override
  public String toString() {
    return what + ": " + String.join(" ", argv);
  }
}
