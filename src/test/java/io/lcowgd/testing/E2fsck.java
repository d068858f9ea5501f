package io.lcowgd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The e2fsck oracle: every ext4 image a test produces must pass {@code e2fsck -fn} with exit status 0. */
public final class E2fsck {
  private E2fsck() {}

  /** Output and exit status of one run. */
  public record Result(int exitCode, String output) {}

  /** Runs {@code e2fsck -fn} on the ext4 image (or fixed VHD) at {@code image}. */
  public static Result run(Path image) throws IOException, InterruptedException {
    return Procs.run(List.of("e2fsck", "-fn", image.toString()), 600);
  }

  /**
   * Asserts that the ext4 filesystem in {@code image} is clean (exit status 0). A fixed VHD can be passed as is:
   * the superblock gives the filesystem size, so e2fsck ignores the padding and the 512-byte footer after it.
   */
  public static void assertClean(Path image) throws IOException, InterruptedException {
    Result r = run(image);
    if (r.exitCode() != 0) {
      fail("e2fsck -fn " + image + " exited " + r.exitCode() + ":\n" + r.output());
    }
    assertEquals(0, r.exitCode());
  }

  /** Small process helper shared by the testing utilities. */
  static final class Procs {
    private Procs() {}

    static Result run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + cmd);
      }
      return new Result(p.exitValue(), new String(out));
    }

    static String check(List<String> cmd) throws IOException, InterruptedException {
      Result r = run(cmd, 600);
      if (r.exitCode() != 0) {
        throw new IOException(String.join(" ", cmd) + " exited " + r.exitCode() + ": " + r.output().strip());
      }
      return r.output();
    }
  }
}
