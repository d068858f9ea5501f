package io.lcowgd.svm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.PoolMode;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.VmLease;
import io.lcowgd.testing.E2fsck;
import io.lcowgd.testing.HostTools;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The host backend on real loop devices and mounts (root only). */
class HostBackendTest {
  @TempDir Path root;
  private HostBackend backend;
  private ServiceVmPool pool;

  @BeforeEach
  void setUp() {
    assumeTrue(HostTools.isRoot(), "needs root for loop devices and mounts");
    backend = new HostBackend(HostBackend.defaultRunDir(root), root, "");
    pool = new ServiceVmPool(backend, PoolMode.SAFE, Duration.ofSeconds(60));
  }

  @AfterEach
  void noLeaks() throws IOException {
    if (pool == null) {
      return;
    }
    pool.cleanup();
    assertEquals(List.of(), HostTools.mountsUnder(root, backend.runDir()), "leaked mounts");
    assertEquals(List.of(), HostTools.loopsUnder(root), "leaked loop devices");
  }

  /** An ext4 image with {@code files} (name -> content) plus a 512-byte trailer standing in for a VHD footer. */
  private PayloadRange layerImage(Path image, String... nameContent) throws IOException {
    Path src = Files.createDirectories(root.resolve("src-" + image.getParent().getFileName()));
    for (int i = 0; i < nameContent.length; i += 2) {
      Path f = src.resolve(nameContent[i]);
      Files.createDirectories(f.getParent());
      Files.writeString(f, nameContent[i + 1]);
    }
    HostTools.mkfs(image, src, 1024);
    long size = Files.size(image);
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      raf.setLength(size + 512);
    }
    return new PayloadRange(0, size);
  }

  /** 130 layers through mount(2) (one page of options: short paths must fit) and through fsconfig lowerdir+. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void readOnlyUnionOf130Layers(boolean legacyMount) throws Exception {
    NewMountApi.disableForTests(legacyMount);
    int n = 130;
    List<Path> images = new ArrayList<>();
    List<PayloadRange> ranges = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path img = Files.createDirectories(root.resolve(String.format("%064x", i))).resolve("layer.vhd");
      ranges.add(layerImage(img, "layer-" + i + "/id", "L" + i, "top-id", "L" + i));
      images.add(img);
    }
    Path target = root.resolve("mnt/top");
    try (VmLease lease = pool.acquire("top")) {
      List<VmLease.Attachment> atts = new ArrayList<>();
      List<String> lowers = new ArrayList<>();
      for (int i = n - 1; i >= 0; i--) { // topmost first
        VmLease.Attachment a = lease.attach(images.get(i), ranges.get(i), AccessMode.READ_ONLY);
        atts.add(a);
        lowers.add(a.guestPath());
      }
      UnionSpec spec = UnionSpec.readOnly(target.toString(), lowers).hiding(List.of("lost+found"));
      int absolute = OverlayOptions.of(spec).length();
      Path vmDir = Path.of(lowers.get(0)).getParent();
      int relative = OverlayOptions.of(HostVm.relativeTo(vmDir, spec)).length();
      System.out.println("overlay options for " + n + " read-only layers: " + absolute + " bytes with absolute paths, "
          + relative + " bytes relative to " + vmDir + (legacyMount ? " (mount(2) used)" : " (fsconfig lowerdir+ used)"));
      assertTrue(relative < 4096);
      try (VmLease.UnionMount u = lease.mountUnion(spec)) {
        assertEquals(target.toString(), u.target());
        assertEquals("L" + (n - 1), Files.readString(target.resolve("top-id")));
        assertFalse(Files.exists(target.resolve("lost+found")), "masked by the whiteout lower");
        assertTrue(Files.exists(Path.of(lowers.get(0), "lost+found")));
        for (int i = 0; i < n; i++) {
          assertEquals("L" + i, Files.readString(target.resolve("layer-" + i + "/id")));
        }
        assertThrows(IOException.class, () -> Files.writeString(target.resolve("x"), "no"), "read-only union");
        assertEquals(n, pool.stats().attachments());
      }
      for (VmLease.Attachment a : atts) {
        a.close();
      }
    }
    assertFalse(Files.exists(target), "union mount point removed");
    NewMountApi.disableForTests(false);
    for (int i = 0; i < n; i += 13) {
      E2fsck.assertClean(images.get(i), 0);
    }
  }

  @Test
  void writableUnionWritesIntoTheSandboxUpperDirectory() throws Exception {
    Path base = root.resolve("base/layer.vhd");
    Files.createDirectories(base.getParent());
    PayloadRange br = layerImage(base, "etc/hostname", "base", "etc/gone", "x");
    Path sandbox = root.resolve("ctr/sandbox.img");
    Files.createDirectories(sandbox.getParent());
    HostTools.mkfs(sandbox, null, 8192);
    PayloadRange sr = new PayloadRange(0, Files.size(sandbox));
    Path target = root.resolve("mnt/ctr");
    try (VmLease lease = pool.acquire("ctr");
        VmLease.Attachment s = lease.attach(sandbox, sr, AccessMode.READ_WRITE);
        VmLease.Attachment b = lease.attach(base, br, AccessMode.READ_ONLY);
        VmLease.UnionMount u = lease.mountUnion(UnionSpec.writable(target.toString(), List.of(b.guestPath()),
            s.guestPath() + "/upper", s.guestPath() + "/work"))) {
      assertEquals(target.toString(), u.target());
      assertEquals("base", Files.readString(target.resolve("etc/hostname")));
      Files.writeString(target.resolve("etc/new"), "hello");
      Files.delete(target.resolve("etc/gone"));
      assertEquals("rwxr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(target)));
      assertTrue(pool.sync(sandbox));
    }
    String ls = HostTools.check("debugfs", "-R", "ls -l /upper/etc", sandbox.toString());
    assertTrue(ls.contains("new"), ls);
    assertTrue(ls.contains("gone"), "whiteout for the deleted file: " + ls);
    E2fsck.assertClean(sandbox, 0);
    E2fsck.assertClean(base, 0);
  }

  @Test
  void sandboxWithoutParentsGetsAnEmptyLower() throws Exception {
    Path sandbox = root.resolve("s/sandbox.img");
    Files.createDirectories(sandbox.getParent());
    HostTools.mkfs(sandbox, null, 8192);
    Path target = root.resolve("mnt/s");
    try (VmLease lease = pool.acquire("s");
        VmLease.Attachment s = lease.attach(sandbox, new PayloadRange(0, Files.size(sandbox)), AccessMode.READ_WRITE);
        VmLease.UnionMount u = lease.mountUnion(UnionSpec.writable(target.toString(), List.of(),
            s.guestPath() + "/upper", s.guestPath() + "/work"))) {
      assertEquals(target.toString(), u.target());
      try (var ds = Files.list(target)) {
        assertEquals(0, ds.count(), "no lost+found: the union shows upper/ only");
      }
    }
  }

  @Test
  void cleanStaleRemovesOnlyOurMountsAndLoops() throws Exception {
    Path img = root.resolve("a/layer.vhd");
    Files.createDirectories(img.getParent());
    layerImage(img, "f", "x");
    // Simulate a crashed instance: a loop mount under the run dir and a bind mount under mnt/, left behind.
    Path mp = Files.createDirectories(backend.runDir().resolve("zz/d1"));
    HostTools.check("mount", "-o", "loop,ro", img.toString(), mp.toString());
    Path u = Files.createDirectories(root.resolve("mnt/x"));
    HostTools.check("mount", "--bind", mp.toString(), u.toString());
    assertEquals(1, HostTools.loopsUnder(root).size());
    int removed = backend.cleanStale(root.resolve("mnt"));
    assertTrue(removed >= 2, "removed " + removed);
    assertEquals(List.of(), HostTools.mountsUnder(root, backend.runDir()));
    // autoclear of mount -o loop devices may complete asynchronously
    for (int i = 0; i < 100 && !HostTools.loopsUnder(root).isEmpty(); i++) {
      Thread.sleep(20);
    }
    assertEquals(List.of(), HostTools.loopsUnder(root));
    assertFalse(Files.exists(backend.runDir().resolve("zz")));
  }

  @Test
  void readOnlyImagesAreSharedAcrossVmsAndLingerUntilCleanup() throws Exception {
    Path img = root.resolve("a/layer.vhd");
    Files.createDirectories(img.getParent());
    PayloadRange r = layerImage(img, "f", "shared");
    try (VmLease x = pool.acquire("x");
        VmLease y = pool.acquire("y");
        VmLease.Attachment ax = x.attach(img, r, AccessMode.READ_ONLY);
        VmLease.Attachment ay = y.attach(img, r, AccessMode.READ_ONLY)) {
      assertEquals("shared", Files.readString(Path.of(ax.guestPath(), "f")));
      assertEquals("shared", Files.readString(Path.of(ay.guestPath(), "f")));
      assertEquals(1, HostTools.loopsUnder(root).size(), "one loop device for both VMs");
    }
    assertEquals(1, HostTools.loopsUnder(root).size(), "the idle mount lingers after the VMs are gone");
    assertEquals(1, backend.sharedMountCount());
    try (VmLease z = pool.acquire("z");
        VmLease.Attachment az = z.attach(img, r, AccessMode.READ_ONLY)) {
      assertEquals("shared", Files.readString(Path.of(az.guestPath(), "f")), "reused");
    }
    // Attaching the image read-write evicts the idle read-only mount, which would go stale.
    try (VmLease w = pool.acquire("w");
        VmLease.Attachment aw = w.attach(img, r, AccessMode.READ_WRITE)) {
      assertEquals(0, backend.sharedMountCount());
      Files.writeString(Path.of(aw.guestPath(), "f"), "changed");
    }
    try (VmLease z = pool.acquire("z");
        VmLease.Attachment az = z.attach(img, r, AccessMode.READ_ONLY)) {
      assertEquals("changed", Files.readString(Path.of(az.guestPath(), "f")));
    }
    pool.forget(img);
    assertEquals(0, backend.sharedMountCount(), "forget unmounts idle entries of the image");
    assertEquals(List.of(), HostTools.loopsUnder(root));
  }

  @Test
  void anIdleSharedMountIsUndoneSoonAfterTheLastReleaseWithoutFurtherCalls() throws Exception {
    Path img = root.resolve("b/layer.vhd");
    Files.createDirectories(img.getParent());
    PayloadRange r = layerImage(img, "g", "reaped");
    try (VmLease x = pool.acquire("x");
        VmLease.Attachment ax = x.attach(img, r, AccessMode.READ_ONLY)) {
      assertEquals("reaped", Files.readString(Path.of(ax.guestPath(), "g")));
    }
    long deadline = System.nanoTime() + HostBackend.IDLE_SHARED_NANOS + 5_000_000_000L;
    while (backend.sharedMountCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(0, backend.sharedMountCount(), "the reaper unmounts the idle entry");
    for (int i = 0; i < 100 && !HostTools.loopsUnder(root).isEmpty(); i++) {
      Thread.sleep(20);
    }
    assertEquals(List.of(), HostTools.loopsUnder(root), "and detaches its loop device");
  }
}
