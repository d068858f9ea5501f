package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.graphdriver.GraphDriverContract;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.svm.host.HostBackend;
import io.lcowgd.testing.HostTools;
import io.lcowgd.vhdx.Vhdx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GraphDriverContract} against {@link LcowDriver} with the host backend: real loop devices, ext4 and overlay
 * mounts. After every test: Cleanup, then no mount or loop device of ours may remain and every image must pass
 * {@code e2fsck -fn}.
 */
class LcowDriverTest extends GraphDriverContract {
  @TempDir static Path cache; // sandbox templates, shared by the tests to keep them quick
  @TempDir Path state;
  private LcowDriver driver;
  private Path home;

  @BeforeEach
  void setUp() throws IOException {
    assumeTrue(HostTools.isRoot(), "needs root for loop devices and mounts");
    home = state.resolve("home");
    driver = LcowDriver.open(state, DriverConfig.DEFAULTS);
    driver.init(home.toString(), null, null, null);
    Files.createDirectories(home.resolve("cache"));
    // Reuse cached templates between tests (making one costs a second of mke2fs).
    try (Stream<Path> s = Files.list(cache)) {
      for (Path t : s.toList()) {
        Path dst = home.resolve("cache").resolve(t.getFileName());
        if (!Files.exists(dst)) {
          Files.createLink(dst, t);
        }
      }
    }
  }

  @AfterEach
  void checkNoLeaksAndCleanImages() throws IOException {
    if (driver == null) {
      return;
    }
    driver.cleanup();
    Path runDir = HostBackend.defaultRunDir(home);
    assertEquals(List.of(), HostTools.mountsUnder(state, runDir), "leaked mounts");
    assertEquals(List.of(), HostTools.loopsUnder(state), "leaked loop devices");
    long t0 = System.nanoTime();
    int images = 0;
    try (Stream<Path> s = Files.walk(home)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.equals("layer.vhd")) {
          HostTools.e2fsck(p, 0);
        } else if (n.endsWith(".vhdx")) {
          HostTools.e2fsck(p, Vhdx.payloadRange(p).offset());
        }
        images++;
      }
    }
    System.out.printf("e2fsck of %d files: %d ms%n", images, (System.nanoTime() - t0) / 1_000_000);
    try (Stream<Path> s = Files.list(home.resolve("cache"))) {
      for (Path t : s.toList()) {
        if (t.getFileName().toString().startsWith("sandbox-") && !Files.exists(cache.resolve(t.getFileName()))) {
          Files.createLink(cache.resolve(t.getFileName()), t);
        }
      }
    }
  }

  @Override
  protected GraphDriver driver() {
    return driver;
  }

  @Override
  protected void leaveCrashDebris(String id) throws IOException {
    Path staged = Files.createDirectories(home.resolve(".staging").resolve(id + "-deadbeef"));
    Files.writeString(staged.resolve("layerchain.json"), "[]");
    Path tomb = Files.createDirectories(home.resolve(id + "-removing"));
    Files.writeString(tomb.resolve("layerchain.json"), "[]");
  }

  @Override
  protected void restart() throws IOException {
    // No Cleanup, no Init: a crashed plugin restarted by dockerd.
    driver = LcowDriver.open(state, DriverConfig.DEFAULTS);
    assertEquals(home, driver.root(), "the saved Init home is used again");
    assertFalse(Files.exists(home.resolve(".staging").resolve("half-deadbeef")));
    assertFalse(Files.exists(home.resolve("half-removing")));
  }

  @Test
  void aRestartedDriverCleansTheMountsOfItsPredecessor() throws IOException {
    driver.createReadWrite("c", "", "", null);
    String dir = driver.get("c", "");
    Files.writeString(Path.of(dir, "f"), "data");
    // The old instance "dies" holding its mounts; the new one must clean them before serving.
    LcowDriver old = driver;
    driver = LcowDriver.open(state, DriverConfig.DEFAULTS);
    assertFalse(Files.exists(Path.of(dir, "f")), "stale union mount removed");
    Path d2 = Path.of(driver.get("c", ""));
    assertEquals("data", Files.readString(d2.resolve("f")), "the data survived in the sandbox");
    driver.put("c");
    assertThrows(Exception.class, () -> old.put("c")); // its mounts were torn down underneath it
    old.close();
  }

  /** The deep chain's top is mounted twice: through fsconfig lowerdir+ and through mount(2) (kernels before 6.8). */
  @Override
  protected void verifyDeepTop(String topId, int n) throws IOException {
    super.verifyDeepTop(topId, n);
    HostBackend.useNewMountApi(false);
    try {
      super.verifyDeepTop(topId, n);
    } finally {
      HostBackend.useNewMountApi(true);
    }
  }

  @Test
  void storageOptSizesTheSandboxAndRejectsBadValues() throws IOException {
    driver.createReadWrite("big", "", "", Map.of("size", "21G"));
    long virt = Vhdx.payloadRange(home.resolve("big/sandbox.vhdx")).length();
    assertEquals(21L << 30, virt);
    GraphDriverException e = assertThrows(GraphDriverException.class,
        () -> driver.createReadWrite("small", "", "", Map.of("size", "1G")));
    assertEquals(GraphDriverException.Category.INVALID_ARGUMENT, e.category());
    assertFalse(driver.exists("small"));
    assertThrows(GraphDriverException.class, () -> driver.init(home.toString(), List.of("lcow.bogus=1"), null, null));
  }

  @Test
  void statusCountsLayersAndMounts() throws IOException {
    driver.createReadWrite("c", "", "", null);
    driver.get("c", "");
    Map<String, String> st = new java.util.HashMap<>();
    for (StatusLine l : driver.status()) {
      st.put(l.key(), l.value());
    }
    assertEquals("safe", st.get("Mode"));
    assertEquals("host", st.get("Backend"));
    assertEquals("1", st.get("Layers"));
    assertEquals("1", st.get("Mounts"));
    assertEquals(home.toString(), st.get("Root"));
    assertTrue(driver.getMetadata("c").get("MergedDir").startsWith(home.toString()));
    driver.put("c");
  }
}
