package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.RawHttp;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lcow serve} as a real process, started the way {@code scripts/lcow} starts it: time from process start to
 * the socket answering {@code Plugin.Activate}, then SIGTERM: exit 0, socket and spec file gone.
 */
class ServeProcessTest {
  /** dockerd gives a managed plugin about 10 s; the 2 shared cores of CI make this the hard bound. */
  static final long MAX_STARTUP_MS = 8000;

  @TempDir Path tmp;

  static Process launch(Path log, String... args) throws IOException {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "io.lcowgd.Main", "serve"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  @Test
  void bindsWithinSecondsAnswersAndExitsZeroOnSigtermRemovingSocketAndSpec() throws Exception {
    Path socket = tmp.resolve("plugins/lcow.sock");
    Path specDir = tmp.resolve("spec");
    Path log = tmp.resolve("serve.log");
    long t0 = System.nanoTime();
    Process p = launch(log, "--root", tmp.resolve("root").toString(), "--socket", socket.toString(), "--tcp",
        "127.0.0.1:0", "--spec-dir", specDir.toString());
    try {
      long ms = -1;
      while ((System.nanoTime() - t0) / 1_000_000 < 20_000 && p.isAlive()) {
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
          try (RawHttp c = RawHttp.unix(socket)) {
            if (c.call("Plugin.Activate", null).status() == 200) {
              ms = (System.nanoTime() - t0) / 1_000_000;
              break;
            }
          } catch (IOException notYet) {
            // keep polling
          }
        }
        Thread.sleep(10);
      }
      String out = Files.readString(log);
      System.out.println("lcow serve: process start to first Activate answer: " + ms + " ms");
      assertTrue(ms >= 0, "never answered:\n" + out);
      assertTrue(ms < MAX_STARTUP_MS, "took " + ms + " ms:\n" + out);
      Path spec = specDir.resolve("lcow.spec");
      assertTrue(Files.readString(spec).matches("tcp://127\\.0\\.0\\.1:\\d+\n"), Files.readString(spec));
      try (RawHttp c = RawHttp.unix(socket)) {
        String err = c.call("GraphDriver.Status", "{}").text();
        assertTrue(err.contains("[\"Root\",\"" + tmp.resolve("root") + "\"]"), err); // the LCOW driver on --root
      }
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(15, TimeUnit.SECONDS), "exit after SIGTERM");
      assertEquals(0, p.exitValue(), Files.readString(log));
      assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "socket removed");
      assertFalse(Files.exists(spec), "spec file removed");
      try (var left = Files.list(socket.getParent())) {
        assertEquals(List.of(), left.toList());
      }
      assertTrue(Files.readString(log).contains("stopping"), Files.readString(log));
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void refusesToStartWhileAnotherInstanceListensAndLeavesItAlone() throws Exception {
    Path socket = tmp.resolve("gd.sock");
    Process first = launch(tmp.resolve("first.log"), "--root", tmp.toString(), "--socket", socket.toString());
    try {
      for (int i = 0; i < 2000 && !Files.exists(socket, LinkOption.NOFOLLOW_LINKS); i++) {
        Thread.sleep(10);
      }
      Process second = launch(tmp.resolve("second.log"), "--root", tmp.toString(), "--socket", socket.toString());
      assertTrue(second.waitFor(20, TimeUnit.SECONDS));
      assertEquals(1, second.exitValue());
      String out = Files.readString(tmp.resolve("second.log"));
      assertTrue(out.contains("another process is listening on it"), out);
      try (RawHttp c = RawHttp.unix(socket)) {
        assertEquals(200, c.call("Plugin.Activate", null).status(), "the first instance still serves");
      }
      first.destroy();
      assertTrue(first.waitFor(15, TimeUnit.SECONDS));
      assertEquals(0, first.exitValue());
    } finally {
      first.destroyForcibly();
    }
  }

  @Test
  void aStaleSocketFromAKilledInstanceIsReplaced() throws Exception {
    Path socket = tmp.resolve("gd.sock");
    Process killed = launch(tmp.resolve("k.log"), "--root", tmp.toString(), "--socket", socket.toString());
    for (int i = 0; i < 2000 && !Files.exists(socket, LinkOption.NOFOLLOW_LINKS); i++) {
      Thread.sleep(10);
    }
    killed.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL: no clean-up
    assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "SIGKILL leaves the socket file");
    Process next = launch(tmp.resolve("n.log"), "--root", tmp.toString(), "--socket", socket.toString());
    try {
      int status = 0;
      for (int i = 0; i < 2000 && status != 200; i++) {
        try (RawHttp c = RawHttp.unix(socket)) {
          status = c.call("Plugin.Activate", null).status();
        } catch (IOException stale) {
          Thread.sleep(10);
        }
      }
      assertEquals(200, status, Files.readString(tmp.resolve("n.log")));
      next.destroy();
      assertTrue(next.waitFor(15, TimeUnit.SECONDS));
      assertEquals(0, next.exitValue());
    } finally {
      next.destroyForcibly();
    }
    assertFalse(new File(socket.toString()).exists());
  }
}
