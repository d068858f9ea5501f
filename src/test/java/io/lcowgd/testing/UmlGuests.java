package io.lcowgd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Test helpers for User-mode Linux guests: building the guest image, and finding guests left running. */
public final class UmlGuests {
  private UmlGuests() {}

  /** Skips the calling tests unless Debian's user-mode-linux is installed. */
  public static void assumeInstalled() {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/linux.uml")), "user-mode-linux is not installed");
  }

  /**
   * Builds the guest with {@code scripts/build-uvm} into {@code dir} (at most half an hour); fails with the script's
   * output otherwise.
   */
  public static Path build(Path dir) throws IOException {
    HostTools.check(List.of("scripts/build-uvm", dir.toString()), 1800);
    return dir;
  }

  /** The {@code pgrep -af linux.uml} lines of guests whose umid starts with {@code umidPrefix}. */
  public static List<String> running(String umidPrefix) throws IOException {
    return HostTools.run(List.of("pgrep", "-af", "linux.uml")).out().lines()
        .filter(l -> l.contains("umid=" + umidPrefix)).toList();
  }

  /**
   * Kills (SIGKILL) the process group of every {@code linux.uml} process whose umid starts with {@code umidPrefix}: a
   * UML guest leads its own process group.
   */
  public static void killGroups(String umidPrefix) throws IOException {
    for (String line : running(umidPrefix)) {
      HostTools.run(List.of("kill", "-KILL", "--", "-" + line.strip().split(" ")[0]));
    }
  }

  /** Fails if a guest whose umid starts with {@code umidPrefix} is still running. */
  public static void assertNoneRunning(String umidPrefix) throws IOException {
    assertEquals(List.of(), running(umidPrefix), "linux.uml processes of this test left running");
  }
}
