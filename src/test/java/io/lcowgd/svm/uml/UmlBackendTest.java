package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.PoolMode;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.VmLease;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Real User-mode Linux guests: boot, disks, overlay, export, mkfs, death and recovery; no process left behind. */
class UmlBackendTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.UML_ONLY);

  @TempDir Path tmp;
  private final List<UmlVm> started = new ArrayList<>();

  private UmlBackend backend() {
    return new UmlBackend(UML.image(), tmp.resolve("run"), UmlOptions.withTimeout(TIMEOUT));
  }

  @AfterEach
  void noGuestLeft() throws Exception {
    for (UmlVm vm : started) {
      vm.terminate();
    }
    assertTrue(!Files.exists(tmp.resolve("run")) || Files.list(tmp.resolve("run")).findAny().isEmpty(),
        "run directories left behind");
  }

  private UmlVm boot(UmlBackend b, String id) throws IOException {
    UmlVm vm = b.start(id);
    started.add(vm);
    return vm;
  }

  @Test
  void bootsToAgentReadyAndRunsCommands() throws Exception {
    UmlVm vm = boot(backend(), "boot");
    System.out.println("UML start to agent ready: " + vm.bootMillis() + " ms");
    assertEquals(ProcessGroups.members(vm.pid()).contains(vm.pid()), true, "UML leads its own process group");
    assertEquals("6.1.176", vm.run("uname -r").strip());
    IOException e = assertThrows(IOException.class, () -> vm.run("echo oops >&2; exit 3"));
    assertTrue(e.getMessage().contains("status 3") && e.getMessage().contains("oops"), e.getMessage());
    // No unrestricted hostfs: only the empty per-VM directory is reachable.
    vm.run("mkdir -p /tmp/h && mount -t hostfs none /tmp/h");
    assertEquals("", vm.run("ls -A /tmp/h").strip());
    vm.run("umount /tmp/h");
    assertTrue(vm.run("cat /proc/meminfo").contains("MemTotal"), "meminfo readable");
    String status = Files.readString(Path.of("/proc/" + vm.pid() + "/status"));
    assertTrue(status.contains("NoNewPrivs:\t1") && status.contains("CapEff:\t0000000000000000"), status);
    vm.terminate();
    assertTrue(ProcessGroups.members(vm.pid()).isEmpty(), "process group gone");
  }

  @Test
  void attachesLayersReadOnlyAtOffsetsAndLists() throws Exception {
    Path plain = layer("plain", "hello.txt", "from plain\n");
    Path shifted = tmp.resolve("shifted.img");
    // 1 MiB of noise, the ext4 payload, then a 512-byte footer (like a VHDX payload inside its container).
    byte[] noise = new byte[1 << 20];
    new java.util.Random(7).nextBytes(noise);
    byte[] inner = Files.readAllBytes(layer("inner", "hello.txt", "from offset\n"));
    try (OutputStream o = Files.newOutputStream(shifted)) {
      o.write(noise);
      o.write(inner);
      o.write(new byte[512]);
    }
    UmlVm vm = boot(backend(), "attach");
    String a = vm.attach(plain, new PayloadRange(0, Files.size(plain)), AccessMode.READ_ONLY, "d1");
    String b = vm.attach(shifted, new PayloadRange(noise.length, inner.length), AccessMode.READ_ONLY, "d2");
    assertEquals("/tmp/d1", a);
    assertEquals("from plain\n", vm.run("cat /tmp/d1/hello.txt"));
    assertEquals("from offset\n", vm.run("cat /tmp/d2/hello.txt"));
    assertTrue(vm.run("ls /tmp/d1").contains("hello.txt"));
    IOException ro = assertThrows(IOException.class, () -> vm.run("touch /tmp/d1/new"));
    assertTrue(ro.getMessage().contains("Read-only"), ro.getMessage());
    vm.detach(a);
    vm.detach(b);
    assertEquals("", vm.run("ls /tmp | grep '^d[12]$' || true").strip());
    assertThrows(IOException.class, () -> vm.detach(a));
  }

  @Test
  void overlayOfThreeReadOnlyAndOneWritableDiskExportsUpperAndFormats() throws Exception {
    Path l1 = layer("l1", "shared.txt", "from l1\n");
    Path l2 = layer("l2", "two.txt", "from l2\n");
    Path l3 = layer("l3", "shared.txt", "from l3\n");
    Path rw = tmp.resolve("rw.img");
    run(List.of("truncate", "-s", "64M", rw.toString()));
    UmlVm vm = boot(backend(), "overlay");
    vm.formatExt4(rw, new PayloadRange(0, Files.size(rw)), "-O ^has_journal");
    run(List.of("e2fsck", "-fn", rw.toString()));
    String g1 = vm.attach(l1, range(l1), AccessMode.READ_ONLY, "d1");
    String g2 = vm.attach(l2, range(l2), AccessMode.READ_ONLY, "d2");
    String g3 = vm.attach(l3, range(l3), AccessMode.READ_ONLY, "d3");
    String g4 = vm.attach(rw, range(rw), AccessMode.READ_WRITE, "d4");
    vm.mountUnion(UnionSpec.writable("/tmp/m", List.of(g3, g2, g1), g4 + "/upper", g4 + "/work"));
    assertEquals("from l3\n", vm.run("cat /tmp/m/shared.txt"), "topmost lower wins");
    assertEquals("from l2\n", vm.run("cat /tmp/m/two.txt"));
    vm.run("echo new > /tmp/m/new.txt && rm /tmp/m/two.txt");
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    long n = exportTar(vm, g4 + "/upper", tar);
    assertEquals(tar.size(), n);
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar.toByteArray()))) {
      for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
        names.add(e.getName() + (e.isCharacterDevice() ? " (whiteout " + e.getDevMajor() + "/" + e.getDevMinor() + ")" : ""));
      }
    }
    assertTrue(names.contains("./new.txt") && names.contains("./two.txt (whiteout 0/0)"), names.toString());
    vm.unmountUnion("/tmp/m");
    vm.sync(g4);
    vm.detach(g4);
    vm.detach(g3);
    vm.detach(g2);
    vm.detach(g1);
    run(List.of("e2fsck", "-fn", rw.toString()));
    String ls = run(List.of("debugfs", "-R", "ls -l /upper", rw.toString()));
    assertTrue(ls.contains("new.txt") && ls.contains("two.txt"), ls);
  }

  /** Streams a tar of the guest directory {@code guestDir} (busybox tar, numeric owners kept) to {@code sink}. */
  private static long exportTar(UmlVm vm, String guestDir, OutputStream sink) throws IOException {
    return vm.stream("tar -cf - -C " + GuestShell.q(guestDir) + " .", sink);
  }

  @Test
  void streamsLargeOutputWithoutStalling() throws Exception {
    UmlVm vm = boot(backend(), "stream");
    CountingSink sink = new CountingSink();
    long t0 = System.nanoTime();
    long n = vm.stream("dd if=/dev/zero bs=65536 count=320 2>/dev/null", sink);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("UML stream 20 MiB guest -> host: " + ms + " ms");
    assertEquals(20L << 20, n);
    assertEquals(n, sink.count);
    assertEquals("after\n", vm.run("echo after"), "the channel still works after a bulk stream");
    // Binary data with every byte value arrives unchanged (raw tty, no output processing).
    String guestSum = vm.run("head -c 3000000 /dev/urandom > /tmp/r && sha256sum /tmp/r").split(" ")[0];
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    assertEquals(3_000_000, vm.stream("cat /tmp/r", got));
    byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(got.toByteArray());
    assertEquals(guestSum, java.util.HexFormat.of().formatHex(digest));
    IOException e = assertThrows(IOException.class, () -> vm.stream("echo partial; exit 4", new CountingSink()));
    assertTrue(e.getMessage().contains("status 4 after 8 bytes"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(PoolMode.class)
  void guestKilledDuringAnOperationFailsClearlyAndNextCallBootsFresh(PoolMode mode) throws Exception {
    ServiceVmPool pool = new ServiceVmPool(backend(), mode, TIMEOUT);
    try {
      Path l1 = layer("k1", "a.txt", "a\n");
      VmLease lease = pool.acquire("layer1");
      VmLease.Attachment att = lease.attach(l1, range(l1), AccessMode.READ_ONLY);
      UmlVm vm = guestOf(pool, lease);
      CompletableFuture<Long> op = CompletableFuture.supplyAsync(() -> {
        try {
          return vm.stream("cat /dev/zero", new CountingSink());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Thread.sleep(300);
      run(List.of("kill", "-KILL", "--", "-" + vm.pid()));
      Throwable t = assertThrows(Exception.class, () -> op.get(30, TimeUnit.SECONDS)).getCause().getCause();
      System.out.println("error after kill (" + mode + "): " + t.getMessage());
      assertTrue(t.getMessage().contains("service VM") && t.getMessage().contains("died")
          && t.getMessage().contains("exited with status"), t.getMessage());
      IOException detach = assertThrows(IOException.class, att::close);
      assertTrue(detach.getMessage().contains("service VM") && detach.getMessage().contains("exited with status"),
          detach.getMessage());
      lease.close();
      try (VmLease again = pool.acquire("layer1")) {
        UmlVm fresh = guestOf(pool, again);
        assertNotEquals(vm.umid(), fresh.umid());
        try (VmLease.Attachment a2 = again.attach(l1, range(l1), AccessMode.READ_ONLY)) {
          assertEquals("a\n", fresh.run("cat " + a2.guestPath() + "/a.txt"));
        }
      }
    } finally {
      pool.cleanup();
    }
  }

  @ParameterizedTest
  @EnumSource(PoolMode.class)
  void guestThatHangsPastTheTimeoutFailsClearlyAndIsReplaced(PoolMode mode) throws Exception {
    Duration op = Duration.ofSeconds(3);
    UmlBackend b = new UmlBackend(UML.image(), tmp.resolve("run"),
        new UmlOptions(UmlOptions.DEFAULT_MEMORY_MIB, TIMEOUT, op));
    ServiceVmPool pool = new ServiceVmPool(b, mode, TIMEOUT);
    try {
      VmLease lease = pool.acquire("layer1");
      UmlVm vm = guestOf(pool, lease);
      long t0 = System.nanoTime();
      io.lcowgd.svm.VmTimeoutException e = assertThrows(io.lcowgd.svm.VmTimeoutException.class,
          () -> vm.run("sleep 600"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getMessage().contains("service VM " + vm.id()) && e.getMessage().contains("timed out"), e.getMessage());
      assertTrue(ms >= op.toMillis() && ms < op.toMillis() + 10_000, "failed after " + ms + " ms");
      assertTrue(!vm.alive(), "a VM whose agent timed out no longer counts as alive");
      IOException next = assertThrows(IOException.class, () -> vm.run("true"));
      assertTrue(next.getMessage().contains("out of step"), next.getMessage());
      lease.close();
      try (VmLease again = pool.acquire("layer1")) {
        UmlVm fresh = guestOf(pool, again);
        assertNotEquals(vm.umid(), fresh.umid());
        assertEquals("ok\n", fresh.run("echo ok"));
      }
      assertTrue(ProcessGroups.members(vm.pid()).isEmpty(), "the hung guest's process group was killed");
    } finally {
      pool.cleanup();
    }
  }

  private static UmlVm guestOf(ServiceVmPool pool, VmLease lease) throws IOException {
    return UmlBackend.guest(lease.vm());
  }

  private PayloadRange range(Path p) throws IOException {
    return new PayloadRange(0, Files.size(p));
  }

  private Path layer(String name, String file, String content) throws Exception {
    Path dir = tmp.resolve(name + ".d");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(file), content);
    Path img = tmp.resolve(name + ".img");
    run(List.of("mke2fs", "-q", "-t", "ext4", "-F", "-d", dir.toString(), img.toString(), "8M"));
    return img;
  }

  static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), cmd + ": " + out);
    return out;
  }

  static final class CountingSink extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}
