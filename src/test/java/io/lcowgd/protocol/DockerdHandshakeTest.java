package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.protocol.transport.UnixSocketListener;
import io.lcowgd.testing.RecordingDriver;
import io.lcowgd.testing.RecordingDriver.Call;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real dockerd (Debian's 20.10.24, which sends an empty {@code Host:}) starting against this server with a
 * recording driver: Activate, Init, Capabilities, Status at start, Status for {@code docker info}, Create and a
 * chunked ApplyDiff for {@code docker import}, Remove for {@code docker rmi}, Cleanup at stop.
 * Skipped when dockerd is not installed or we are not root.
 */
class DockerdHandshakeTest {
  @TempDir Path tmp;

  static final Path DOCKERD = Path.of("/usr/sbin/dockerd");
  static final Path DOCKER = Path.of("/usr/bin/docker");

  @Test
  void dockerdStartsUsesStatusAndCleansUpThroughThePlugin() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(DOCKERD) && Files.isExecutable(DOCKER), "dockerd not installed");
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
    String name = "lcowgd-handshake-" + ProcessHandle.current().pid();
    Path socket = Path.of("/run/docker/plugins", name + ".sock");
    RecordingDriver driver = new RecordingDriver();
    driver.status = List.of(new StatusLine("Backend", "recording fake"));
    Path root = tmp.resolve("root");
    Path log = tmp.resolve("dockerd.log");
    Process dockerd = null;
    try (PluginServer server = PluginServer.start(driver, List.of(new UnixSocketListener(socket, Optional.empty())))) {
      dockerd = new ProcessBuilder(DOCKERD.toString(), "--experimental", "--debug", "--iptables=false",
          "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--data-root",
          root.toString(), "--exec-root", tmp.resolve("exec").toString(), "-H",
          "unix://" + tmp.resolve("docker.sock"), "--pidfile", tmp.resolve("docker.pid").toString(),
          "--storage-driver", name)
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      String info = null;
      for (int i = 0; i < 300 && dockerd.isAlive(); i++) {
        Process p = new ProcessBuilder(DOCKER.toString(), "-H", "unix://" + tmp.resolve("docker.sock"), "info",
            "--format", "{{.Driver}} {{json .DriverStatus}}").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() == 0) {
          info = out;
          break;
        }
        Thread.sleep(100);
      }
      assertEquals(name + " [[\"Backend\",\"recording fake\"]]", info, Files.readString(log));

      // docker import: Create{ID}, then ApplyDiff?id=ID&parent= with the tar as a chunked body; rmi: Remove{ID}.
      Path tar = tmp.resolve("layer.tar");
      Path src = Files.createDirectories(tmp.resolve("src/etc"));
      Files.write(src.resolve("data.bin"), new byte[3 << 20]);
      Files.writeString(src.resolve("hostname"), "handshake\n");
      assertEquals(0, new ProcessBuilder("tar", "-C", tmp.resolve("src").toString(), "-cf", tar.toString(), ".")
          .inheritIO().start().waitFor());
      assertEquals(0, docker(tmp, "import", tar.toString(), "handshake:test"), Files.readString(log));
      List<Call> creates = driver.calls("create");
      List<Call> applies = driver.calls("applyDiff");
      assertEquals(1, creates.size(), driver.calls.toString());
      String id = (String) creates.get(0).args().get(0);
      assertTrue(id.matches("[0-9a-f]{64}"), id);
      assertEquals(List.of(new Call("applyDiff", List.of(id, ""))), applies);
      assertEquals(Files.size(tar), driver.appliedBytes.get(), "the whole tar arrived through the chunked body");
      assertEquals(0, docker(tmp, "rmi", "handshake:test"), Files.readString(log));
      assertEquals(List.of(new Call("remove", List.of(id))), driver.calls("remove"));
      dockerd.destroy();
      assertTrue(dockerd.waitFor(30, TimeUnit.SECONDS));
      List<String> methods = driver.calls.stream().map(Call::method).toList();
      assertEquals(new Call("init", List.of(root.resolve(name).toString(), List.of(), List.of(), List.of())),
          driver.calls.get(0), Files.readString(log));
      assertEquals(List.of("init", "capabilities", "status", "status", "create", "applyDiff", "remove", "cleanup"),
          methods, Files.readString(log));
      assertTrue(Files.readString(log).contains(name + " implements: GraphDriver")
          || Files.readString(log).contains("Initialized graph driver " + name), Files.readString(log));
    } finally {
      if (dockerd != null && dockerd.isAlive()) {
        dockerd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      unmountBelow(tmp);
    }
  }

  private static int docker(Path tmp, String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new java.util.ArrayList<>(List.of(DOCKER.toString(), "-H", "unix://" + tmp.resolve("docker.sock")));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).inheritIO().start().waitFor();
  }

  /** dockerd may leave mounts of its data or exec root behind after a failed start; remove only ours. */
  private static void unmountBelow(Path dir) throws IOException, InterruptedException {
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(Path.of("/proc/self/mountinfo")));
    java.util.Collections.reverse(lines);
    for (String line : lines) {
      String mountPoint = line.split(" ")[4];
      if (mountPoint.startsWith(dir.toString() + "/")) {
        new ProcessBuilder("umount", "-l", mountPoint).inheritIO().start().waitFor();
      }
    }
  }
}
