package io.lcowgd.svm;

import io.lcowgd.io.Failures;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Hands out {@link VmLease}s on service VMs, starting each VM once and terminating it when its last lease closes
 * (safe mode) or at {@link #cleanup()} (global mode).
 *
 * <p>State machine of one map entry (moby {@code serviceVMMap}, without its reference leak):
 *
 * <pre>
 * ABSENT --acquire [refs=1, the caller starts the VM]--> STARTING
 * STARTING --start ok--> RUNNING          (callers that joined meanwhile share the result)
 * STARTING --start failed--> ABSENT       (entry removed at once; every waiter gets the failure, no refs remain)
 * RUNNING --acquire: refs++ / lease close: refs-- --> RUNNING
 * RUNNING --last close (safe mode) or terminate(id)/cleanup()--> TERMINATING
 * TERMINATING --backend terminate done--> ABSENT  (acquire meanwhile waits, then starts a fresh VM;
 *                                                  if the stop failed, the waiter gets that failure)
 * </pre>
 *
 * <p>Lock order: the pool's lock, then a VM's lock; nobody waits for a start or a stop while holding either.
 * Every backend call is bounded by the configured timeout.
 */
public final class ServiceVmPool {
  /** The map key of the single VM in global mode (the original's name). */
  public static final String GLOBAL_ID = "_lcow_global_svm_";

  private final VmBackend backend;
  private final PoolMode mode;
  private final Bounded bounded;

  // @GuardedBy("this")
  private final Map<String, Entry> entries = new HashMap<>();

  /** One map entry; {@code refs} and {@code terminating} are guarded by the pool. */
  static final class Entry {
    final String key;
    int refs;
    boolean terminating;
    final CompletableFuture<ServiceVm> started = new CompletableFuture<>();
    final CompletableFuture<Void> stopped = new CompletableFuture<>();

    Entry(String key) {
      this.key = key;
    }
  }

  public ServiceVmPool(VmBackend backend, PoolMode mode, Duration timeout) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.mode = Objects.requireNonNull(mode, "mode");
    this.bounded = new Bounded(timeout);
  }

  public PoolMode mode() {
    return mode;
  }

  public String backendName() {
    return backend.name();
  }

  public Duration timeout() {
    return bounded.timeout();
  }

  /** The VM id that serves {@code layerId} in this pool's mode. */
  public String vmIdFor(String layerId) {
    return mode == PoolMode.GLOBAL ? GLOBAL_ID : layerId;
  }

  /**
   * Returns a lease on the VM serving {@code layerId}, starting it if needed. Concurrent callers share one start
   * and its failure; a caller that finds the VM terminating waits for the stop and starts a fresh VM.
   */
  public VmLease acquire(String layerId) throws IOException {
    String key = vmIdFor(layerId);
    while (true) {
      Entry e;
      boolean starter = false;
      CompletableFuture<Void> stopping = null;
      synchronized (this) {
        e = entries.get(key);
        if (e == null) {
          e = new Entry(key);
          e.refs = 1;
          entries.put(key, e);
          starter = true;
        } else if (e.terminating) {
          stopping = e.stopped;
        } else {
          e.refs++;
        }
      }
      if (stopping != null) {
        await(stopping, "wait for service VM " + key + " to stop");
        continue;
      }
      if (starter) {
        start(e);
      }
      ServiceVm svm;
      try {
        svm = await(e.started, "start service VM " + key);
      } catch (IOException ex) {
        // The starter removed the entry when the start failed, so this caller's reference is gone with it.
        throw ex;
      }
      if (!svm.running()) {
        // The VM died (e.g. its guest process was killed): drop it from the map and start a fresh one.
        forceStop(key);
        continue;
      }
      return new VmLease(this, e, svm);
    }
  }

  private void start(Entry e) {
    try {
      Vm vm = bounded.call("start service VM " + e.key, () -> backend.start(e.key), Vm::terminate);
      e.started.complete(new ServiceVm(e.key, vm, bounded));
    } catch (Throwable t) {
      synchronized (this) {
        entries.remove(e.key, e);
      }
      e.stopped.complete(null);
      e.started.completeExceptionally(t);
    }
  }

  /** Called by {@link VmLease#close()}: drops one reference; the last one in safe mode stops the VM. */
  void release(Entry e, ServiceVm svm) throws IOException {
    boolean stop = false;
    synchronized (this) {
      if (e.terminating || entries.get(e.key) != e) {
        return; // force-terminated meanwhile
      }
      e.refs--;
      if (e.refs == 0 && mode == PoolMode.SAFE) {
        e.terminating = true;
        stop = true;
      }
    }
    if (stop) {
      stop(e, svm);
    }
  }

  private void stop(Entry e, ServiceVm svm) throws IOException {
    IOException failure = null;
    try {
      svm.terminate();
    } catch (IOException ex) {
      failure = ex;
    } catch (RuntimeException ex) {
      failure = new IOException("terminate service VM " + e.key + ": " + ex, ex);
    }
    synchronized (this) {
      entries.remove(e.key, e);
    }
    if (failure != null) {
      e.stopped.completeExceptionally(failure);
      throw failure;
    }
    e.stopped.complete(null);
  }

  /**
   * Force-terminates the VM serving {@code layerId} whatever its reference count (moby's {@code Remove} in safe
   * mode); outstanding leases on it become no-ops. Does nothing in global mode or if no VM runs.
   */
  public void terminate(String layerId) throws IOException {
    if (mode == PoolMode.GLOBAL) {
      return;
    }
    forceStop(layerId);
  }

  private void forceStop(String key) throws IOException {
    Entry e;
    boolean mine = false;
    synchronized (this) {
      e = entries.get(key);
      if (e == null) {
        return;
      }
      if (!e.terminating) {
        e.terminating = true;
        e.refs = 0;
        mine = true;
      }
    }
    if (!mine) {
      await(e.stopped, "wait for service VM " + key + " to stop");
      return;
    }
    ServiceVm svm;
    try {
      svm = await(e.started, "start service VM " + key);
    } catch (IOException startFailed) {
      return; // the starter removed the entry; nothing runs
    }
    stop(e, svm);
  }

  /** Force-terminates every VM (daemon shutdown); the pool stays usable afterwards. Failures are collected. */
  public void cleanup() throws IOException {
    List<String> keys;
    synchronized (this) {
      keys = new ArrayList<>(entries.keySet());
    }
    IOException failure = null;
    for (String k : keys) {
      try {
        forceStop(k);
      } catch (IOException ex) {
        failure = failure == null ? new IOException("cleanup of the service-VM pool failed", ex)
            : Failures.add(failure, ex);
      }
    }
    try {
      bounded.call("release idle resources of the " + backend.name() + " backend", () -> {
        backend.releaseIdle();
        return Boolean.TRUE;
      }, late -> {});
    } catch (IOException ex) {
      failure = failure == null ? new IOException("cleanup of the service-VM pool failed", ex)
          : Failures.add(failure, ex);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Tells the backend that image {@code hostPath} is about to be removed or rewritten (see {@link VmBackend#forget}). */
  public void forget(Path hostPath) throws IOException {
    bounded.call("forget " + hostPath, () -> {
      backend.forget(hostPath);
      return Boolean.TRUE;
    }, late -> {});
  }

  /**
   * Flushes the filesystem of image {@code hostPath} in every running VM that has it attached (before its image
   * file is read directly); returns whether any had it.
   */
  public boolean sync(Path hostPath) throws IOException {
    boolean any = false;
    for (ServiceVm svm : running()) {
      any |= svm.sync(hostPath);
    }
    return any;
  }

  /** Counts of running VMs, attachments and union mounts. */
  public PoolStats stats() {
    int att = 0;
    int uni = 0;
    List<ServiceVm> vms = running();
    for (ServiceVm svm : vms) {
      att += svm.attachmentCount();
      uni += svm.unionCount();
    }
    return new PoolStats(vms.size(), att, uni);
  }

  private List<ServiceVm> running() {
    List<ServiceVm> out = new ArrayList<>();
    synchronized (this) {
      for (Entry e : entries.values()) {
        ServiceVm svm = e.started.getNow(null);
        if (svm != null && !e.terminating && svm.alive()) {
          out.add(svm);
        }
      }
    }
    return out;
  }

  /** Whether an entry (starting, running or terminating) exists for {@code vmId}; for tests and status. */
  public synchronized boolean hasEntry(String vmId) {
    return entries.containsKey(vmId);
  }

  /** The reference count of {@code vmId}'s entry, or -1 if absent; for tests. */
  public synchronized int refCount(String vmId) {
    Entry e = entries.get(vmId);
    return e == null ? -1 : e.refs;
  }

  private static <T> T await(CompletableFuture<T> f, String what) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      InterruptedIOException ie = new InterruptedIOException(what + ": interrupted");
      ie.initCause(ex);
      throw ie;
    } catch (ExecutionException ex) {
      Throwable c = ex.getCause();
      throw new IOException(what + " failed: " + c.getMessage(), c);
    }
  }
}
