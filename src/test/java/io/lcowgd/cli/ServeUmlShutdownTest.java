package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import io.lcowgd.testing.UmlGuests;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code lcow serve --opt lcow.svm=uml} as a real process: guests are started through the driver (global mode: the
 * shared guest after a finished Diff; safe mode: a guest in the middle of a Diff whose reply nobody reads), then
 * SIGTERM: exit 0, and no {@code linux.uml} process of the plugin, no scratch file, no run directory, no mount or
 * loop device is left.
 */
class ServeUmlShutdownTest {
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.ROOT);
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"true", "false"})
  void sigtermLeavesNoGuestNoScratchNoRunDir(String global) throws Exception {
    Path root = tmp.resolve("root");
    Path socket = tmp.resolve("plugins/lcow.sock");
    Path log = tmp.resolve("serve.log");
    Process p = ServeProcessTest.launch(log, "--root", root.toString(), "--socket", socket.toString(),
        "--opt", "lcow.svm=uml", "--opt", "lcow.kirdpath=" + UML.dir(), "--opt", "lcow.globalmode=" + global);
    String prefix = "lcow-" + p.pid() + "-";
    RawHttp stuck = null;
    try {
      awaitActivate(p, socket, log);
      try (RawHttp c = RawHttp.unix(socket)) {
        ok(c.call("GraphDriver.CreateReadWrite", "{\"ID\":\"c\",\"Parent\":\"\",\"MountLabel\":\"\",\"StorageOpt\":{}}"));
        RawHttp.Response got = ok(c.call("GraphDriver.Get", "{\"ID\":\"c\",\"MountLabel\":\"\"}"));
        Matcher m = Pattern.compile("\"Dir\":\"([^\"]+)\"").matcher(got.text());
        assertTrue(m.find(), got.text());
        byte[] big = new byte[24 << 20];
        new Random(5).nextBytes(big);
        Files.write(Path.of(m.group(1)).resolve("big.bin"), big); // more than the socket buffers hold
        ok(c.call("GraphDriver.Put", "{\"ID\":\"c\"}"));
      }
      String vmId = global.equals("true") ? ServiceVmPool.GLOBAL_ID : "c";
      if (global.equals("true")) {
        try (RawHttp c = RawHttp.unix(socket)) {
          RawHttp.Response r = ok(c.call("GraphDriver.Diff", "{\"ID\":\"c\",\"Parent\":\"\"}"));
          assertTrue(r.body().length > 24 << 20, "whole tar read: " + r.body().length);
        }
      } else {
        // A Diff whose reply is never read: its guest stays busy streaming when SIGTERM comes.
        stuck = RawHttp.unix(socket);
        byte[] body = "{\"ID\":\"c\",\"Parent\":\"\"}\n".getBytes(StandardCharsets.UTF_8);
        stuck.send(RawHttp.dockerHead("GraphDriver.Diff", body.length).getBytes(StandardCharsets.US_ASCII));
        stuck.send(body);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!(Files.exists(root.resolve("scratch").resolve(vmId + ".vhdx")) && !guests(prefix).isEmpty())
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(1, guests(prefix).size(), "one guest of the plugin runs: " + guests(prefix) + "\n"
          + Files.readString(log));
      assertTrue(Files.exists(root.resolve("scratch").resolve(vmId + ".vhdx")), "its scratch disk exists");
      assertTrue(runDirs(prefix).size() >= 1, "its run directory exists");

      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exit after SIGTERM");
      assertEquals(0, p.exitValue(), Files.readString(log));
      assertEquals(List.of(), guests(prefix), "no linux.uml of the plugin left");
      assertEquals(List.of(), list(root.resolve("scratch")), "no scratch file left");
      assertEquals(List.of(), runDirs(prefix), "no run directory left");
      assertEquals(List.of(), HostTools.mountsUnder(root), "no mount left");
      assertEquals(List.of(), HostTools.loopsUnder(root), "no loop device left");
    } finally {
      if (stuck != null) {
        stuck.close();
      }
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
      UmlGuests.killGroups(prefix); // a failed assertion must not leak this plugin's guests
    }
  }

  private static RawHttp.Response ok(RawHttp.Response r) {
    assertEquals(200, r.status(), r.text());
    assertTrue(!r.text().contains("\"Err\":\"") || r.text().contains("\"Err\":\"\""), r.text());
    return r;
  }

  private static void awaitActivate(Process p, Path socket, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline && p.isAlive()) {
      if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
        try (RawHttp c = RawHttp.unix(socket)) {
          if (c.call("Plugin.Activate", null).status() == 200) {
            return;
          }
        } catch (IOException notYet) {
          // keep polling
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("serve never answered:\n" + Files.readString(log));
  }

  /** {@code pgrep -af linux.uml} lines of guests whose umid starts with {@code prefix} (the plugin's pid). */
  private static List<String> guests(String prefix) throws Exception {
    // The UML kernel and its helper processes share the command line; count the group leaders only.
    return UmlGuests.running(prefix).stream()
        .filter(l -> {
          long pid = Long.parseLong(l.split(" ")[0]);
          try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2].equals(Long.toString(pid));
          } catch (IOException gone) {
            return false;
          }
        }).toList();
  }

  private static List<Path> runDirs(String prefix) throws IOException {
    return list(UmlBackend.DEFAULT_RUN_BASE).stream().filter(d -> d.getFileName().toString().startsWith(prefix))
        .toList();
  }

  private static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }
}
