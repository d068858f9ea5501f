package io.lcowgd.svm;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fake {@link VmBackend} that records every call and checks the pool's promises: at most one live VM per id, no
 * operation on a terminated VM, never two operations at once on one VM, every attach undone exactly once.
 */
final class RecordingBackend implements VmBackend {
  final List<String> events = new ArrayList<>();
  final Map<String, Integer> live = new HashMap<>();
  final AtomicInteger starts = new AtomicInteger();
  final AtomicInteger terminates = new AtomicInteger();
  final List<String> violations = new ArrayList<>();

  volatile CountDownLatch startGate;
  volatile CountDownLatch terminateGate;
  volatile IOException startFailure;
  volatile long startDelayMillis;

  synchronized void record(String e) {
    events.add(e);
  }

  synchronized void violation(String v) {
    violations.add(v);
  }

  synchronized List<String> events() {
    return new ArrayList<>(events);
  }

  @Override
  public String name() {
    return "recording";
  }

  @Override
  public Vm start(String vmId) throws IOException {
    starts.incrementAndGet();
    record("start " + vmId);
    await(startGate);
    if (startDelayMillis > 0) {
      try {
        Thread.sleep(startDelayMillis);
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }
    if (startFailure != null) {
      record("start-failed " + vmId);
      throw startFailure;
    }
    synchronized (this) {
      int n = live.merge(vmId, 1, Integer::sum);
      if (n > 1) {
        violation("two live VMs for " + vmId);
      }
    }
    return new FakeVm(vmId);
  }

  private static void await(CountDownLatch l) throws IOException {
    if (l != null) {
      try {
        l.await();
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
    }
  }

  final class FakeVm implements Vm {
    final String id;
    final Map<String, Path> attached = new HashMap<>();
    final Set<String> unions = new HashSet<>();
    boolean terminated;
    final AtomicInteger busy = new AtomicInteger();

    FakeVm(String id) {
      this.id = id;
    }

    private void enter(String op) {
      if (busy.incrementAndGet() != 1) {
        violation("concurrent operations on VM " + id + " at " + op);
      }
      if (terminated) {
        violation(op + " on terminated VM " + id);
      }
    }

    private void exit() {
      busy.decrementAndGet();
    }

    @Override
    public String attach(Path hostPath, PayloadRange range, AccessMode mode, String shortName) {
      enter("attach");
      try {
        String guest = "/vm/" + id + "/" + shortName;
        if (attached.containsKey(guest)) {
          violation("guest path reused: " + guest);
        }
        if (attached.containsValue(hostPath)) {
          violation("host path attached twice: " + hostPath);
        }
        attached.put(guest, hostPath);
        record("attach " + id + " " + hostPath + " " + mode + " " + guest);
        return guest;
      } finally {
        exit();
      }
    }

    @Override
    public void detach(String guestPath) {
      enter("detach");
      try {
        if (attached.remove(guestPath) == null) {
          violation("detach of unknown " + guestPath);
        }
        record("detach " + id + " " + guestPath);
      } finally {
        exit();
      }
    }

    @Override
    public void sync(String guestPath) {
      enter("sync");
      try {
        record("sync " + id + " " + guestPath);
      } finally {
        exit();
      }
    }

    @Override
    public void mountUnion(UnionSpec spec) {
      enter("mountUnion");
      try {
        if (!unions.add(spec.target())) {
          violation("union mounted twice: " + spec.target());
        }
        record("union " + id + " " + spec.target() + " " + spec.lowers());
      } finally {
        exit();
      }
    }

    @Override
    public void unmountUnion(String target) {
      enter("unmountUnion");
      try {
        if (!unions.remove(target)) {
          violation("unmount of unknown union " + target);
        }
        record("ununion " + id + " " + target);
      } finally {
        exit();
      }
    }

    @Override
    public void terminate() throws IOException {
      record("terminate-begin " + id);
      await(terminateGate);
      enter("terminate");
      try {
        terminated = true;
        attached.clear();
        unions.clear();
        terminates.incrementAndGet();
        synchronized (RecordingBackend.this) {
          live.merge(id, -1, Integer::sum);
        }
        record("terminate " + id);
      } finally {
        exit();
      }
    }
  }
}
