package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.PoolMode;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.VmLease;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import io.lcowgd.vhdx.Vhdx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The SVM scratch disk of real UML guests: cloned per VM, attached at boot, mounted at {@code /tmp/scratch}, holding
 * the agent's temporary files and scratch unions; deleted when the VM terminates (safe-mode release, global-mode
 * cleanup, replacement of a guest killed behind the pool's back). Prints boot times with and without it.
 */
class UmlScratchTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.UML_ONLY);
  @TempDir static Path shared;
  static SandboxFactory templates;

  @TempDir Path tmp;
  private final List<UmlVm> started = new ArrayList<>();
  private final AtomicInteger made = new AtomicInteger();

  @BeforeAll
  static void templateCache() {
    templates = new SandboxFactory(shared.resolve("cache"));
  }

  /** Scratch files {@code <tmp>/scratch/<vmId>-<n>.vhdx}, as the driver's provider makes them (from the template). */
  private ScratchDisks provider() {
    return vmId -> {
      Path dir = tmp.resolve("scratch");
      Files.createDirectories(dir);
      Path dest = dir.resolve(vmId + "-" + made.incrementAndGet() + ".vhdx");
      templates.createScratch(dest);
      return Optional.of(new ScratchDisk(dest, Vhdx.payloadRange(dest)));
    };
  }

  private UmlBackend backend(ScratchDisks scratch) {
    return new UmlBackend(UML.image(), tmp.resolve("run"), UmlOptions.withTimeout(TIMEOUT), scratch);
  }

  @AfterEach
  void noGuestOrScratchLeft() throws Exception {
    for (UmlVm vm : started) {
      vm.terminate();
    }
    assertEquals(List.of(), list(tmp.resolve("run")), "run directories left behind");
    assertEquals(List.of(), list(tmp.resolve("scratch")), "scratch files left behind");
  }

  private static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  private UmlVm boot(UmlBackend b, String id) throws IOException {
    UmlVm vm = b.start(id);
    started.add(vm);
    return vm;
  }

  @Test
  void scratchIsMountedAtTmpScratchHoldsTemporaryFilesAndUnionsAndGoesWithTheVm() throws Exception {
    UmlVm vm = boot(backend(provider()), "s1");
    Path file = vm.scratch().orElseThrow().image();
    assertTrue(Files.isRegularFile(file), "scratch file exists while the VM runs");
    assertEquals(file, Files.readSymbolicLink(tmp.resolve("run").resolve(vm.umid()).resolve(UmlVm.SCRATCH_RECORD)));
    // df in the guest: an ext4 of the template's 20 GiB (minus metadata) at /tmp/scratch, writable.
    String[] df = vm.run("df -k /tmp/scratch | tail -1").trim().split("\\s+");
    long kib = Long.parseLong(df[1]);
    System.out.println("guest df /tmp/scratch: " + String.join(" ", df));
    assertTrue(kib > 19L * 1024 * 1024 && kib <= 20L * 1024 * 1024, Arrays.toString(df));
    assertEquals("/tmp/scratch", df[df.length - 1]);
    assertTrue(vm.run("grep ' /tmp/scratch ' /proc/mounts").contains(" ext4 rw"), "ext4, read-write");
    // The agent's captures and the commands' TMPDIR are on it.
    assertEquals("/tmp/scratch/tmp", vm.tempDir());
    assertEquals("/tmp/scratch/tmp\n", vm.run("echo $TMPDIR"));
    assertTrue(vm.run("ls -a /tmp/scratch/tmp").contains(".o"), "output capture on the scratch disk");
    String big = vm.run("head -c 3000000 /dev/zero | tr '\\0' x; echo");
    assertEquals(3_000_001, big.length(), "a 3 MB capture comes back whole");
    // A union whose upper lies on the scratch disk takes 24 MiB, more than the guest's 16 MiB RAM /tmp holds.
    Path layer = tmp.resolve("l.img");
    UmlBackendTest.run(List.of("truncate", "-s", "8M", layer.toString()));
    UmlBackendTest.run(List.of("mke2fs", "-q", "-t", "ext4", "-F", layer.toString()));
    String low = vm.attach(layer, new PayloadRange(0, Files.size(layer)), AccessMode.READ_ONLY, "d1");
    vm.mountUnion(vm.scratchUnion("/tmp/u", List.of(low), "u1"));
    vm.run("dd if=/dev/zero of=/tmp/u/big bs=1M count=24 2>/dev/null");
    assertEquals(24L << 20, Long.parseLong(vm.run("stat -c %s /tmp/scratch/u1/upper/big").strip()));
    IOException ram = assertThrows(IOException.class,
        () -> vm.run("dd if=/dev/zero of=/tmp/big bs=1M count=24; s=$?; rm -f /tmp/big; exit $s"));
    assertTrue(ram.getMessage().contains("No space left"), "the RAM /tmp would not do: " + ram.getMessage());
    vm.unmountUnion("/tmp/u");
    vm.detach(low);
    UmlBackendTest.run(List.of("e2fsck", "-fn", layer.toString()));
    vm.terminate();
    assertFalse(Files.exists(file), "scratch deleted when the VM terminates");
    assertFalse(Files.exists(tmp.resolve("run").resolve(vm.umid())), "run directory deleted");
  }

  @Test
  void withoutAProviderTheGuestKeepsItsRamTmp() throws Exception {
    UmlVm vm = boot(backend(ScratchDisks.NONE), "n1");
    assertTrue(vm.scratch().isEmpty());
    assertEquals("/tmp", vm.tempDir());
    assertEquals("/tmp\n", vm.run("echo $TMPDIR"));
    assertEquals("", vm.run("grep ' /tmp/scratch ' /proc/mounts || true"));
    assertThrows(IOException.class, () -> vm.scratchUnion("/tmp/u", List.of("/tmp"), "u1"));
  }

  @Test
  void aFailedBootDeletesItsScratch() throws Exception {
    // An initrd that is not one: the boot fails (no agent hello) and the scratch made for it must go.
    Path bad = tmp.resolve("bad.img");
    Files.writeString(bad, "not a cpio archive");
    UvmImage broken = new UvmImage(UML.image().kernel(), bad, List.of());
    UmlBackend b = new UmlBackend(broken, tmp.resolve("run"), new UmlOptions(128, Duration.ofSeconds(8),
        Duration.ofSeconds(8)), provider());
    IOException e = assertThrows(IOException.class, () -> b.start("f1"));
    assertTrue(e.getMessage().contains("start UML service VM f1"), e.getMessage());
    assertEquals(1, made.get(), "a scratch disk was made for the attempt");
  }

  @ParameterizedTest
  @EnumSource(PoolMode.class)
  void poolLifecycleDeletesScratchOnSafeReleaseGlobalCleanupAndReplacement(PoolMode mode) throws Exception {
    ServiceVmPool pool = new ServiceVmPool(backend(provider()), mode, TIMEOUT);
    try {
      UmlVm first;
      Path firstFile;
      try (VmLease lease = pool.acquire("layer1")) {
        first = UmlBackend.guest(lease.vm());
        firstFile = first.scratch().orElseThrow().image();
        assertTrue(Files.isRegularFile(firstFile));
      }
      if (mode == PoolMode.SAFE) {
        assertFalse(Files.exists(firstFile), "safe mode: scratch deleted with the VM at the last release");
        assertFalse(first.alive());
        return;
      }
      assertTrue(Files.isRegularFile(firstFile), "global mode: scratch kept for the VM's life");
      assertTrue(first.alive());
      // Killed behind the pool's back: the next acquire replaces the VM and deletes the dead one's scratch.
      UmlBackendTest.run(List.of("kill", "-KILL", "--", "-" + first.pid()));
      while (first.alive()) {
        Thread.sleep(10);
      }
      assertTrue(Files.exists(firstFile), "nothing deleted it yet");
      Path second;
      try (VmLease lease = pool.acquire("layer2")) {
        UmlVm fresh = UmlBackend.guest(lease.vm());
        assertNotEquals(first.umid(), fresh.umid());
        second = fresh.scratch().orElseThrow().image();
        assertEquals("ok\n", fresh.run("touch /tmp/scratch/x && echo ok"));
      }
      assertFalse(Files.exists(firstFile), "the replaced VM's scratch was deleted");
      assertTrue(Files.isRegularFile(second), "the new global VM keeps its own");
      pool.cleanup();
      assertFalse(Files.exists(second), "cleanup deleted the global VM's scratch");
    } finally {
      pool.cleanup();
    }
  }

  @Test
  void bootTimeWithAndWithoutScratch() throws Exception {
    UmlBackend with = backend(provider());
    UmlBackend without = backend(ScratchDisks.NONE);
    templates.scratchTemplate(); // made once per cache; not part of a VM's boot
    int n = 5;
    long[] a = new long[n];
    long[] b = new long[n];
    long[] ra = new long[n];
    long[] rb = new long[n];
    for (int i = 0; i < n; i++) {
      UmlVm v1 = boot(without, "t" + i);
      a[i] = v1.bootMillis();
      ra[i] = requestMicros(v1);
      v1.terminate();
      long t0 = System.nanoTime();
      UmlVm v2 = boot(with, "t" + i);
      b[i] = (System.nanoTime() - t0) / 1_000_000; // includes cloning the scratch disk
      rb[i] = requestMicros(v2);
      v2.terminate();
    }
    for (long[] x : List.of(a, b, ra, rb)) {
      Arrays.sort(x);
    }
    System.out.println("UML start to agent ready without scratch: " + Arrays.toString(a) + " ms (median " + a[n / 2]
        + "), with scratch (clone + boot + mount): " + Arrays.toString(b) + " ms (median " + b[n / 2] + ")");
    System.out.println("agent request 'true', separate VMs (captures in RAM /tmp vs on the scratch disk): median "
        + ra[n / 2] + " us vs " + rb[n / 2] + " us");
    // The same comparison on one VM, alternating: the agent falls back to RAM /tmp while scratch/tmp is renamed.
    UmlVm v = boot(with, "alt");
    long[] ram = new long[n];
    long[] disk = new long[n];
    for (int i = 0; i < n; i++) {
      disk[i] = requestMicros(v);
      v.run("mv /tmp/scratch/tmp /tmp/scratch/off");
      ram[i] = requestMicros(v);
      v.run("mv /tmp/scratch/off /tmp/scratch/tmp");
    }
    Arrays.sort(ram);
    Arrays.sort(disk);
    System.out.println("agent request 'true', one VM alternating: RAM /tmp " + Arrays.toString(ram)
        + " us, scratch disk " + Arrays.toString(disk) + " us");
    v.terminate();
    assertTrue(b[n / 2] < TIMEOUT.toMillis() && a[n / 2] < TIMEOUT.toMillis());
  }

  /** Mean microseconds of 20 trivial agent requests. */
  private static long requestMicros(UmlVm vm) throws IOException {
    vm.run("true");
    long t0 = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      vm.run("true");
    }
    return (System.nanoTime() - t0) / 20_000;
  }
}
