package io.lcowgd.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs host tools (mke2fs, debugfs, losetup, ...) for tests; both output streams drained concurrently. The e2fsck
 * oracle is {@link E2fsck}.
 */
public final class HostTools {
  private HostTools() {}

  /** The result of one command. */
  public record Result(int exit, String out, String err) {}

  public static boolean isRoot() {
    try {
      return run(List.of("id", "-u")).out().trim().equals("0");
    } catch (IOException e) {
      return false;
    }
  }

  /** Runs {@code cmd} with standard input from /dev/null, killing it after two minutes. */
  public static Result run(List<String> cmd) throws IOException {
    return run(cmd, 120);
  }

  /** Runs {@code cmd} with standard input from /dev/null, killing it after {@code timeoutSeconds}. */
  public static Result run(List<String> cmd, int timeoutSeconds) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    CompletableFuture<String> out = drain(p.getInputStream());
    CompletableFuture<String> err = drain(p.getErrorStream());
    try {
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + cmd);
      }
      return new Result(p.exitValue(), out.join(), err.join());
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + cmd, e);
    }
  }

  /** Runs {@code cmd} and fails unless it exits 0. */
  public static String check(String... cmd) throws IOException {
    return check(List.of(cmd), 120);
  }

  /** Runs {@code cmd} and fails unless it exits 0 within {@code timeoutSeconds}; returns its standard output. */
  public static String check(List<String> cmd, int timeoutSeconds) throws IOException {
    Result r = run(cmd, timeoutSeconds);
    if (r.exit() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.err() + r.out());
    }
    return r.out();
  }

  /** Allocated bytes of a file ({@code stat -c %b} blocks of 512 bytes). */
  public static long allocatedBytes(Path p) throws IOException {
    return Long.parseLong(check("stat", "-c", "%b", p.toString()).strip()) * 512;
  }

  private static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toString(StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "<" + e + ">";
      }
    });
  }

  /** Makes an ext4 image of {@code sizeKiB} populated from {@code content} (null: empty). */
  public static void mkfs(Path image, Path content, int sizeKiB) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("mke2fs", "-q", "-F", "-t", "ext4", "-O", "^has_journal",
        "-E", "lazy_itable_init=0,root_owner=0:0", "-b", "4096"));
    if (content != null) {
      cmd.add("-d");
      cmd.add(content.toString());
    }
    cmd.add(image.toString());
    cmd.add(sizeKiB + "k");
    Result r = run(cmd);
    if (r.exit() != 0) {
      throw new IOException("mke2fs " + image + ": " + r.err());
    }
  }

  /** Loop devices whose backing file lies below {@code root} (from sysfs). */
  public static List<String> loopsUnder(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    String prefix = root.toAbsolutePath().normalize() + "/";
    try (var ds = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
      for (Path p : ds) {
        Path bf = p.resolve("loop/backing_file");
        if (Files.exists(bf)) {
          String b = Files.readString(bf).trim();
          if (b.startsWith(prefix)) {
            out.add(p.getFileName() + " -> " + b);
          }
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // a device vanished while listing
    }
    return out;
  }

  /** Mount points (from /proc/self/mountinfo) below any of {@code roots}. */
  public static List<String> mountsUnder(Path... roots) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String mp = line.split(" ")[4];
      for (Path r : roots) {
        String d = r.toAbsolutePath().normalize().toString();
        if (mp.equals(d) || mp.startsWith(d + "/")) {
          out.add(mp);
        }
      }
    }
    return out;
  }
}
