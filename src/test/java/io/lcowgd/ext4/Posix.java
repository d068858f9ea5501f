package io.lcowgd.ext4;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** A process runner for building test images. */
public final class Posix {
  private Posix() {}

  /** Runs a command, failing with its output when it exits non-zero or takes over two minutes. */
  public static String run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timeout: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + s);
    }
    return s;
  }

  /** Runs a command with {@code input} on its standard input and returns its standard output. */
  public static String runWithInput(byte[] input, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Thread feeder = new Thread(() -> {
      try (var o = p.getOutputStream()) {
        o.write(input);
      } catch (IOException e) {
        // the process exited early; its exit status reports the problem
      }
    });
    feeder.start();
    byte[] out = p.getInputStream().readAllBytes();
    try {
      feeder.join();
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }
}
