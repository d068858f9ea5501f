package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.Main;
import io.lcowgd.testing.HostTools;
import io.lcowgd.vhdx.Vhdx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MksandboxCommandTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(MksandboxCommand cmd, String... args) throws Exception {
    return cmd.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void makesASandboxFromTheCacheNamedByLcowCache() throws Exception {
    Path cache = dir.resolve("cache");
    MksandboxCommand cmd = new MksandboxCommand(Map.of("LCOW_CACHE", cache.toString()), true);
    Path sb = dir.resolve("s.vhdx");
    assertEquals(0, run(cmd, sb.toString(), "21"), err.toString());
    assertTrue(Files.isRegularFile(cache.resolve("sandbox-21g.vhdx")));
    assertEquals(21L << 30, Vhdx.payloadRange(sb).length());
    assertTrue(out.toString().contains("ext4 at offset"), out.toString());
    HostTools.check("qemu-img", "check", "-f", "vhdx", sb.toString());
  }

  @Test
  void cacheDirectoryDefaults() {
    assertEquals(Path.of("/var/lib/lcow/cache"), new MksandboxCommand(Map.of(), true).cacheDir());
    assertEquals(Path.of("/x/lcow"), new MksandboxCommand(Map.of("XDG_CACHE_HOME", "/x"), false).cacheDir());
    assertEquals(Path.of("/c"), new MksandboxCommand(Map.of("LCOW_CACHE", "/c"), false).cacheDir());
  }

  @Test
  void usageErrorsAreOneLineWithExitCode2() throws Exception {
    MksandboxCommand cmd = new MksandboxCommand(Map.of("LCOW_CACHE", dir.toString()), true);
    assertEquals(2, run(cmd));
    assertEquals(2, run(cmd, dir.resolve("a.vhdx").toString(), "10"));
    assertEquals(2, run(cmd, dir.resolve("a.vhdx").toString(), "big"));
    assertTrue(err.toString().lines().allMatch(l -> l.startsWith("lcow mksandbox") || l.startsWith("usage:")),
        err.toString());
    assertTrue(Files.notExists(dir.resolve("a.vhdx")));
  }

  @Test
  void registeredWithTheLauncher() {
    Path existing = dir.resolve("nodir").resolve("x.vhdx");
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int rc = Main.run(List.of("mksandbox", existing.toString(), "abc"), System.out,
        new PrintStream(e, true, StandardCharsets.UTF_8));
    assertEquals(2, rc);
    assertEquals(1, e.toString().lines().count(), e.toString());
    assertTrue(Commands.all().stream().anyMatch(c -> c.name().equals("mksandbox")));
  }

  @Test
  void failuresThrowForMainToReport() {
    MksandboxCommand cmd = new MksandboxCommand(Map.of("LCOW_CACHE", dir.resolve("c").toString()), true);
    Path inMissingDir = dir.resolve("nodir").resolve("x.vhdx");
    Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> run(cmd, inMissingDir.toString()));
    assertTrue(Main.oneLine(e).contains(inMissingDir.toString()), Main.oneLine(e));
  }
}
