package io.lcowgd.vhdx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a host command in tests and captures its exit code and combined output. */
public record Proc(int exit, String output) {

  /** Runs {@code cmd}, failing the test with the output when it does not finish within 120 s. */
  public static Proc run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
    p.getOutputStream().close();
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    p.getInputStream().transferTo(bo);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", cmd));
    }
    return new Proc(p.exitValue(), bo.toString(StandardCharsets.UTF_8));
  }

  /** Runs {@code cmd} and returns its output, throwing when it exits non-zero. */
  public static String check(String... cmd) throws IOException, InterruptedException {
    Proc r = run(cmd);
    if (r.exit != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + r.exit + ": " + r.output);
    }
    return r.output;
  }

  /** Allocated bytes of a file ({@code stat -c %b} blocks of 512 bytes). */
  public static long allocatedBytes(java.nio.file.Path p) throws IOException, InterruptedException {
    return Long.parseLong(check("stat", "-c", "%b", p.toString()).strip()) * 512;
  }
}
