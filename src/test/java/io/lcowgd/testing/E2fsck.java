package io.lcowgd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The e2fsck oracle: every ext4 image a test produces must pass {@code e2fsck -fn} with exit status 0. */
public final class E2fsck {
  private E2fsck() {}

  /** Output and exit status of one run. */
  public record Result(int exitCode, String output) {}

  /** Runs {@code e2fsck -fn} on the ext4 image (or fixed VHD) at {@code image}. */
  public static Result run(Path image) throws IOException {
    return run(image, 0);
  }

  /**
   * Runs {@code e2fsck -fn} on the ext4 filesystem starting at byte {@code offset} of {@code image} (e2fsprogs'
   * {@code image?offset=N} syntax, e.g. the payload of a VHDX).
   */
  public static Result run(Path image, long offset) throws IOException {
    HostTools.Result r = HostTools.run(List.of("e2fsck", "-fn", device(image, offset)), 600);
    return new Result(r.exit(), r.out() + r.err());
  }

  /**
   * Asserts that the ext4 filesystem in {@code image} is clean (exit status 0). A fixed VHD can be passed as is:
   * the superblock gives the filesystem size, so e2fsck ignores the padding and the 512-byte footer after it.
   */
  public static void assertClean(Path image) throws IOException {
    assertClean(image, 0);
  }

  /** Asserts that the ext4 filesystem at byte {@code offset} of {@code image} is clean (exit status 0). */
  public static void assertClean(Path image, long offset) throws IOException {
    Result r = run(image, offset);
    if (r.exitCode() != 0) {
      fail("e2fsck -fn " + device(image, offset) + " exited " + r.exitCode() + ":\n" + r.output());
    }
    assertEquals(0, r.exitCode());
  }

  private static String device(Path image, long offset) {
    return offset == 0 ? image.toString() : image + "?offset=" + offset;
  }
}
