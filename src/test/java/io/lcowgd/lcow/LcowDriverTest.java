package io.lcowgd.lcow;

import static io.lcowgd.testing.TarFixtures.gnuTarOf;
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
import io.lcowgd.testing.E2fsck;
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
    assertFalse(Files.exists(runDir), "run directory removed by Cleanup");
    long t0 = System.nanoTime();
    int images = 0;
    try (Stream<Path> s = Files.walk(home)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.equals("layer.vhd")) {
          E2fsck.assertClean(p, 0);
        } else if (n.endsWith(".vhdx")) {
          E2fsck.assertClean(p, Vhdx.payloadRange(p).offset());
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

  private static List<String> tarList(byte[] tar) throws IOException {
    Path f = Files.createTempFile("diff", ".tar");
    try {
      Files.write(f, tar);
      return List.of(HostTools.check("tar", "-tf", f.toString()).split("\n"));
    } finally {
      Files.delete(f);
    }
  }

  private byte[] diffBytes(String id, String parent) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (io.lcowgd.graphdriver.TarStream ts = driver.diff(id, parent)) {
      ts.writeTo(out);
    }
    return out.toByteArray();
  }

  @Test
  void applyDiffMakesAReadOnlyImageLayerAndRefusesASecondTar() throws IOException {
    Path src = Files.createDirectories(state.resolve("src"));
    Files.writeString(src.resolve("a"), "12345");
    Files.createDirectories(src.resolve("d"));
    Files.writeString(src.resolve("d/b"), "xy");
    driver.create("L1", "", "", null);
    long size = driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(gnuTarOf(src, "a", "d")));
    assertEquals(7, size, "sum of the regular files' sizes");
    assertTrue(Files.isRegularFile(home.resolve("L1/layer.vhd")));
    GraphDriverException again = assertThrows(GraphDriverException.class,
        () -> driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(gnuTarOf(src, "a"))));
    assertEquals(GraphDriverException.Category.FAILED_PRECONDITION, again.category());
    Path dir = Path.of(driver.get("L1", ""));
    try {
      assertEquals("xy", Files.readString(dir.resolve("d/b")));
      assertEquals(List.of("a", "d"), rawList(dir), "the image's empty ext4 lost+found is hidden");
      assertThrows(IOException.class, () -> Files.writeString(dir.resolve("new"), "x"), "image layers are read-only");
    } finally {
      driver.put("L1");
    }
    assertEquals(7, driver.diffSize("L1", ""));
    assertTrue(tarList(diffBytes("L1", "")).containsAll(List.of("a", "d/", "d/b")));
  }

  @Test
  void aTruncatedTarLeavesTheLayerEmpty() throws IOException {
    Path src = Files.createDirectories(state.resolve("src"));
    Files.write(src.resolve("big"), new byte[100_000]);
    byte[] tar = gnuTarOf(src, "big");
    driver.create("L1", "", "", null);
    byte[] cut = java.util.Arrays.copyOf(tar, 20_000);
    assertThrows(IOException.class, () -> driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(cut)));
    assertFalse(Files.exists(home.resolve("L1/layer.vhd")));
    try (Stream<Path> s = Files.list(home.resolve(".staging"))) {
      assertEquals(0, s.count(), "no staging debris");
    }
    assertEquals(100_000, driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(tar)), "retry works");
  }

  @Test
  void diffOfAMountedSandboxSeesUnflushedWritesAndSquashesOverAncestors() throws IOException {
    Path src = Files.createDirectories(state.resolve("src"));
    Files.writeString(src.resolve("base-file"), "base");
    Files.writeString(src.resolve("gone"), "x");
    driver.create("L1", "", "", null);
    driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(gnuTarOf(src, "base-file", "gone")));
    driver.createReadWrite("c-init", "L1", "", null);
    Path init = Path.of(driver.get("c-init", ""));
    Files.writeString(init.resolve("hostname"), "h");
    driver.put("c-init");
    driver.createReadWrite("c", "c-init", "", null);
    Path c = Path.of(driver.get("c", ""));
    try {
      Files.writeString(c.resolve("written"), "hello");
      Files.delete(c.resolve("gone"));
      // Still mounted, nothing synced by us: Diff must flush the sandbox before reading its image.
      List<String> own = tarList(diffBytes("c", ""));
      assertEquals(List.of(".wh.gone", "written"), own.stream().sorted().toList());
      assertEquals(5, driver.diffSize("c", "c-init"));
      // --squash: against the image layer, the init layer's file is part of the diff too.
      List<String> squashed = tarList(diffBytes("c", "L1"));
      assertEquals(List.of(".wh.gone", "hostname", "written"), squashed.stream().sorted().toList());
      assertEquals(List.of(new io.lcowgd.graphdriver.Change("/gone", io.lcowgd.graphdriver.Change.Kind.DELETE),
              new io.lcowgd.graphdriver.Change("/hostname", io.lcowgd.graphdriver.Change.Kind.ADD),
              new io.lcowgd.graphdriver.Change("/written", io.lcowgd.graphdriver.Change.Kind.ADD)),
          driver.changes("c", "L1"));
      assertEquals(GraphDriverException.Category.INVALID_ARGUMENT,
          assertThrows(GraphDriverException.class, () -> driver.changes("c", "other")).category());
    } finally {
      driver.put("c");
    }
    // A commit: the container's diff applied as a new image layer on top of L1, as dockerd does it.
    driver.create("L2", "L1", "", null);
    byte[] tar = diffBytes("c", "c-init");
    assertEquals(driver.diffSize("c", "c-init"), driver.applyDiff("L2", "L1", new java.io.ByteArrayInputStream(tar)));
    Path l2 = Path.of(driver.get("L2", ""));
    try {
      assertEquals("hello", Files.readString(l2.resolve("written")));
      assertEquals("base", Files.readString(l2.resolve("base-file")));
      assertFalse(Files.exists(l2.resolve("gone")));
    } finally {
      driver.put("L2");
    }
  }

  @Test
  void globalModeSharesOneServiceVmAndSurvivesPut() throws IOException {
    driver.init(home.toString(), List.of("lcow.globalmode=true"), null, null);
    driver.createReadWrite("a", "", "", null);
    driver.createReadWrite("b", "a", "", null);
    Path a = Path.of(driver.get("a", ""));
    Files.writeString(a.resolve("f"), "from a");
    Path b = Path.of(driver.get("b", ""));
    Map<String, String> st = new java.util.HashMap<>();
    for (StatusLine l : driver.status()) {
      st.put(l.key(), l.value());
    }
    assertEquals("global", st.get("Mode"));
    assertEquals("1", st.get("Service VMs"));
    assertEquals("2", st.get("Attached images"), "a's sandbox is attached once, shared by both mounts");
    driver.put("b");
    driver.put("a");
    assertFalse(Files.exists(a.resolve("f")));
    Path b2 = Path.of(driver.get("b", ""));
    assertEquals("from a", Files.readString(b2.resolve("f")));
    driver.put("b");
  }

  private static List<String> rawList(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void lostFoundIsHiddenWhenEmptyAndShownWhenItIsContent() throws IOException {
    Path src = Files.createDirectories(state.resolve("src"));
    Files.writeString(src.resolve("f"), "1");
    driver.create("L1", "", "", null);
    driver.applyDiff("L1", "", new java.io.ByteArrayInputStream(gnuTarOf(src, "f")));
    driver.createReadWrite("c", "L1", "", null);
    Path c = Path.of(driver.get("c", ""));
    try {
      assertEquals(List.of("f"), rawList(c), "no lost+found in a container over an image layer");
      Files.createDirectory(c.resolve("lost+found")); // the container may make one: it is content
      assertEquals(List.of("f", "lost+found"), rawList(c));
    } finally {
      driver.put("c");
    }
    Path src2 = Files.createDirectories(state.resolve("src2/lost+found"));
    Files.writeString(src2.resolve("kept"), "x");
    driver.create("L2", "L1", "", null);
    driver.applyDiff("L2", "L1", new java.io.ByteArrayInputStream(gnuTarOf(src2.getParent(), "lost+found")));
    Path l2 = Path.of(driver.get("L2", ""));
    try {
      assertEquals("x", Files.readString(l2.resolve("lost+found/kept")), "a layer's own lost+found is shown");
    } finally {
      driver.put("L2");
    }
  }
}
