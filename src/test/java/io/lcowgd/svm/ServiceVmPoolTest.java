package io.lcowgd.svm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ServiceVmPoolTest {
  private static final PayloadRange RANGE = new PayloadRange(0, 4096);
  private final RecordingBackend backend = new RecordingBackend();

  private ServiceVmPool pool(PoolMode mode) {
    return new ServiceVmPool(backend, mode, Duration.ofSeconds(10));
  }

  @Test
  void safeModeStartsOncePerIdAndStopsOnLastRelease() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    VmLease a = pool.acquire("L1");
    VmLease b = pool.acquire("L1");
    VmLease c = pool.acquire("L2");
    assertEquals(2, backend.starts.get());
    assertEquals(2, pool.refCount("L1"));
    a.close();
    a.close(); // idempotent: must not drop b's reference
    assertEquals(1, pool.refCount("L1"));
    assertEquals(0, backend.terminates.get());
    b.close();
    assertFalse(pool.hasEntry("L1"));
    assertEquals(1, backend.terminates.get());
    c.close();
    assertEquals(2, backend.terminates.get());
    assertEquals(List.of(), backend.violations);
  }

  @Test
  void globalModeSharesOneVmUntilCleanup() throws Exception {
    ServiceVmPool pool = pool(PoolMode.GLOBAL);
    VmLease a = pool.acquire("L1");
    VmLease b = pool.acquire("L2");
    assertEquals(ServiceVmPool.GLOBAL_ID, a.vmId());
    assertEquals(1, backend.starts.get());
    a.close();
    b.close();
    assertTrue(pool.hasEntry(ServiceVmPool.GLOBAL_ID), "global VM stays after the last release");
    pool.terminate("L1"); // no-op in global mode, as in the original
    assertEquals(0, backend.terminates.get());
    pool.cleanup();
    assertEquals(1, backend.terminates.get());
    assertFalse(pool.hasEntry(ServiceVmPool.GLOBAL_ID));
    VmLease again = pool.acquire("L3");
    assertEquals(2, backend.starts.get(), "the pool is usable after cleanup");
    again.close();
    pool.cleanup();
  }

  @Test
  void attachmentsAreCountedPerHostPathWithNeverReusedShortNames() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    try (VmLease lease = pool.acquire("L1")) {
      Path p = Path.of("/data/a/layer.vhd");
      VmLease.Attachment x = lease.attach(p, RANGE, AccessMode.READ_ONLY);
      VmLease.Attachment y = lease.attach(p, RANGE, AccessMode.READ_ONLY);
      assertEquals("/vm/L1/d1", x.guestPath());
      assertEquals(x.guestPath(), y.guestPath());
      VmLease.Attachment z = lease.attach(Path.of("/data/b/layer.vhd"), RANGE, AccessMode.READ_ONLY);
      assertEquals("/vm/L1/d2", z.guestPath());
      x.close();
      x.close();
      assertEquals(2, pool.stats().attachments());
      y.close();
      assertEquals(1, pool.stats().attachments());
      VmLease.Attachment again = lease.attach(p, RANGE, AccessMode.READ_ONLY);
      assertEquals("/vm/L1/d3", again.guestPath(), "counter never reuses d1");
      assertThrows(IOException.class, () -> lease.attach(p, RANGE, AccessMode.READ_WRITE));
      again.close();
      z.close();
      long attaches = backend.events().stream().filter(e -> e.startsWith("attach ")).count();
      assertEquals(3, attaches);
    }
    assertEquals(List.of(), backend.violations);
  }

  @Test
  void unionMountsAreCounted() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    try (VmLease lease = pool.acquire("L1")) {
      UnionSpec spec = UnionSpec.readOnly("/mnt/L1", List.of("/vm/d2", "/vm/d1"));
      VmLease.UnionMount u1 = lease.mountUnion(spec);
      VmLease.UnionMount u2 = lease.mountUnion(spec);
      assertThrows(IOException.class, () -> lease.mountUnion(UnionSpec.readOnly("/mnt/L1", List.of("/vm/d9"))));
      u1.close();
      assertEquals(1, pool.stats().unionMounts());
      u2.close();
      assertEquals(0, pool.stats().unionMounts());
    }
    assertEquals(1, backend.events().stream().filter(e -> e.startsWith("union ")).count());
    assertEquals(1, backend.events().stream().filter(e -> e.startsWith("ununion ")).count());
  }

  @Test
  void failedStartIsSharedByEveryWaiterAndLeavesNoReference() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    backend.startGate = new CountDownLatch(1);
    backend.startFailure = new IOException("no hypervisor");
    int n = 8;
    ExecutorService ex = Executors.newFixedThreadPool(n);
    List<Future<VmLease>> fs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      fs.add(ex.submit(() -> pool.acquire("L1")));
    }
    waitUntil(() -> pool.refCount("L1") == n);
    backend.startGate.countDown();
    for (Future<VmLease> f : fs) {
      Exception e = assertThrows(Exception.class, f::get);
      assertTrue(e.getCause().getMessage().contains("no hypervisor"), e.getCause().getMessage());
    }
    ex.shutdown();
    assertEquals(1, backend.starts.get(), "one start shared by all callers");
    assertFalse(pool.hasEntry("L1"), "no reference leaks after a failed start");
    backend.startFailure = null;
    try (VmLease lease = pool.acquire("L1")) {
      assertEquals("L1", lease.vmId());
    }
    assertEquals(2, backend.starts.get());
    assertEquals(List.of(), backend.violations);
  }

  @Test
  void callersWaitOutATerminatingVmThenStartAFreshOne() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    VmLease first = pool.acquire("L1");
    backend.terminateGate = new CountDownLatch(1);
    ExecutorService ex = Executors.newFixedThreadPool(2);
    Future<?> closing = ex.submit(() -> {
      first.close();
      return null;
    });
    waitUntil(() -> backend.events().contains("terminate-begin L1"));
    Future<VmLease> waiter = ex.submit(() -> pool.acquire("L1"));
    Thread.sleep(100);
    assertFalse(waiter.isDone(), "acquire must wait while the VM terminates");
    assertEquals(1, backend.starts.get());
    backend.terminateGate.countDown();
    closing.get(5, TimeUnit.SECONDS);
    VmLease second = waiter.get(5, TimeUnit.SECONDS);
    assertEquals(2, backend.starts.get(), "a fresh VM after the stop");
    backend.terminateGate = null;
    second.close();
    ex.shutdown();
    List<String> ev = backend.events();
    assertTrue(ev.indexOf("terminate L1") < ev.lastIndexOf("start L1"), ev.toString());
    assertEquals(List.of(), backend.violations);
  }

  @Test
  void timeoutBoundsAStartAndALateVmIsTerminated() throws Exception {
    ServiceVmPool pool = new ServiceVmPool(backend, PoolMode.SAFE, Duration.ofMillis(200));
    backend.startDelayMillis = 800;
    IOException e = assertThrows(IOException.class, () -> pool.acquire("L1"));
    assertInstanceOf(VmTimeoutException.class, e.getCause(), e.toString());
    assertTrue(e.getMessage().contains("timed out"), e.getMessage());
    assertFalse(pool.hasEntry("L1"));
    waitUntil(() -> backend.terminates.get() == 1);
    assertEquals(0, (int) backend.live.get("L1"), "the VM that started too late was terminated");
  }

  @Test
  void forcedTerminationMakesOutstandingLeasesNoOps() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    VmLease a = pool.acquire("L1");
    VmLease.Attachment att = a.attach(Path.of("/x/sandbox.vhdx"), RANGE, AccessMode.READ_WRITE);
    VmLease.UnionMount u = a.mountUnion(UnionSpec.writable("/mnt/L1", List.of(), att.guestPath() + "/upper",
        att.guestPath() + "/work"));
    pool.terminate("L1");
    assertFalse(pool.hasEntry("L1"));
    u.close();
    att.close();
    a.close();
    assertEquals(1, backend.terminates.get());
    assertFalse(backend.events().stream().anyMatch(e -> e.startsWith("detach") || e.startsWith("ununion")));
    VmLease b = pool.acquire("L1");
    b.close();
    assertEquals(List.of(), backend.violations);
  }

  @Test
  void syncReachesTheVmHoldingTheImage() throws Exception {
    ServiceVmPool pool = pool(PoolMode.SAFE);
    Path img = Path.of("/x/sandbox.vhdx");
    try (VmLease a = pool.acquire("L1");
        VmLease.Attachment att = a.attach(img, RANGE, AccessMode.READ_WRITE)) {
      assertTrue(pool.sync(img));
      assertFalse(pool.sync(Path.of("/other")));
      assertTrue(backend.events().contains("sync L1 " + att.guestPath()));
    }
  }

  /** Many threads acquire, attach, union-mount and release on a few ids; the backend's invariants must hold. */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42})
  void concurrentStartsAndStopsKeepInvariants(long seed) throws Exception {
    for (PoolMode mode : PoolMode.values()) {
      RecordingBackend be = new RecordingBackend();
      ServiceVmPool pool = new ServiceVmPool(be, mode, Duration.ofSeconds(20));
      int threads = 8;
      ExecutorService ex = Executors.newFixedThreadPool(threads);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Random rnd = new Random(seed * 31 + t);
        fs.add(ex.submit(() -> {
          for (int i = 0; i < 150; i++) {
            String id = "L" + rnd.nextInt(3);
            try (VmLease lease = pool.acquire(id)) {
              Path img = Path.of("/img/" + rnd.nextInt(4));
              try {
                useOnce(lease, id, img, rnd.nextBoolean());
              } catch (IOException e) {
                // Another thread force-terminated this VM (pool.terminate): operations on it fail, by design.
                if (!e.getMessage().contains("has been terminated")) {
                  throw e;
                }
              }
              if (rnd.nextInt(20) == 0) {
                pool.terminate(id);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
      ex.shutdown();
      pool.cleanup();
      assertEquals(List.of(), be.violations, mode + " seed " + seed);
      assertEquals(be.starts.get(), be.terminates.get(), "every started VM terminated (" + mode + ")");
      assertEquals(new PoolStats(0, 0, 0), pool.stats());
      for (String id : List.of("L0", "L1", "L2", ServiceVmPool.GLOBAL_ID)) {
        assertFalse(pool.hasEntry(id));
      }
    }
  }

  private static void useOnce(VmLease lease, String id, Path img, boolean union) throws IOException {
    try (VmLease.Attachment att = lease.attach(img, RANGE, AccessMode.READ_ONLY)) {
      if (union) {
        VmLease.UnionMount u =
            lease.mountUnion(UnionSpec.readOnly("/mnt/" + id + "-" + img.getFileName(), List.of(att.guestPath())));
        Thread.yield();
        u.close();
      }
    }
  }

  private static void waitUntil(java.util.function.BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not reached within 5 s");
      }
      Thread.sleep(5);
    }
  }
}
