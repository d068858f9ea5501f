package io.lcowgd.svm;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The pool's bookkeeping for one running {@link Vm}: attachments reference-counted per host path with short guest
 * names {@code d<N>} (N from a counter that only grows), and union mounts reference-counted per target.
 *
 * <p>Every field is guarded by {@code this}; every backend call is made with that lock held, so the backend sees
 * one operation at a time per VM. The pool's map lock is never taken while this lock is held.
 */
final class ServiceVm {
  private final String id;
  private final Vm vm;
  private final Bounded bounded;

  // @GuardedBy("this")
  private boolean alive = true;
  // @GuardedBy("this")
  private long attachCounter;
  // @GuardedBy("this")
  private final Map<Path, Attached> attachments = new HashMap<>();
  // @GuardedBy("this")
  private final Map<String, Union> unions = new HashMap<>();

  private static final class Attached {
    final String guestPath;
    final AccessMode mode;
    int refs;

    Attached(String guestPath, AccessMode mode) {
      this.guestPath = guestPath;
      this.mode = mode;
    }
  }

  private static final class Union {
    final UnionSpec spec;
    int refs;

    Union(UnionSpec spec) {
      this.spec = spec;
    }
  }

  ServiceVm(String id, Vm vm, Bounded bounded) {
    this.id = id;
    this.vm = vm;
    this.bounded = bounded;
  }

  String id() {
    return id;
  }

  Vm vm() {
    return vm;
  }

  synchronized boolean alive() {
    return alive;
  }

  /**
   * Whether the backend still reports the VM running (e.g. its guest process lives). Lock-free, so it never waits
   * for an operation in flight on this VM.
   */
  boolean running() {
    return vm.alive();
  }

  private void checkAlive(String op) throws IOException {
    if (!alive) {
      throw new IOException(op + ": service VM " + id + " has been terminated");
    }
  }

  /** Attaches {@code hostPath} (or adds a reference to its attachment) and returns its guest path. */
  synchronized String attach(Path hostPath, PayloadRange range, AccessMode mode) throws IOException {
    checkAlive("attach " + hostPath);
    Attached a = attachments.get(hostPath);
    if (a != null) {
      if (mode == AccessMode.READ_WRITE && a.mode == AccessMode.READ_ONLY) {
        throw new IOException(
            "attach " + hostPath + " read-write: already attached read-only to service VM " + id + " at " + a.guestPath);
      }
      a.refs++;
      return a.guestPath;
    }
    String shortName = "d" + (++attachCounter);
    String guest =
        bounded.call(
            "attach " + hostPath + " to service VM " + id,
            () -> vm.attach(hostPath, range, mode, shortName),
            late -> {
              synchronized (ServiceVm.this) {
                vm.detach(late);
              }
            });
    a = new Attached(guest, mode);
    a.refs = 1;
    attachments.put(hostPath, a);
    return guest;
  }

  /** Drops one reference to the attachment of {@code hostPath}; the last one detaches it. */
  synchronized void detach(Path hostPath) throws IOException {
    Attached a = attachments.get(hostPath);
    if (a == null || !alive) {
      return; // terminated meanwhile: terminate undid it
    }
    if (--a.refs > 0) {
      return;
    }
    attachments.remove(hostPath);
    bounded.call("detach " + hostPath + " from service VM " + id, () -> {
      vm.detach(a.guestPath);
      return Boolean.TRUE;
    }, late -> {});
  }

  /** Flushes the filesystem of {@code hostPath} if it is attached here; returns whether it was. */
  synchronized boolean sync(Path hostPath) throws IOException {
    Attached a = attachments.get(hostPath);
    if (a == null || !alive) {
      return false;
    }
    bounded.call("sync " + hostPath + " in service VM " + id, () -> {
      vm.sync(a.guestPath);
      return Boolean.TRUE;
    }, late -> {});
    return true;
  }

  /** Creates the union mount of {@code spec} or adds a reference to the identical existing one. */
  synchronized void mountUnion(UnionSpec spec) throws IOException {
    checkAlive("union mount " + spec.target());
    Union u = unions.get(spec.target());
    if (u != null) {
      if (!u.spec.equals(spec)) {
        throw new IOException(
            "union mount " + spec.target() + " in service VM " + id + " already exists with other layers");
      }
      u.refs++;
      return;
    }
    bounded.call("union mount " + spec.target() + " in service VM " + id, () -> {
      vm.mountUnion(spec);
      return Boolean.TRUE;
    }, late -> {
      synchronized (ServiceVm.this) {
        vm.unmountUnion(spec.target());
      }
    });
    u = new Union(spec);
    u.refs = 1;
    unions.put(spec.target(), u);
  }

  /** Drops one reference to the union mount at {@code target}; the last one unmounts it. */
  synchronized void unmountUnion(String target) throws IOException {
    Union u = unions.get(target);
    if (u == null || !alive) {
      return;
    }
    if (--u.refs > 0) {
      return;
    }
    unions.remove(target);
    bounded.call("unmount union " + target + " in service VM " + id, () -> {
      vm.unmountUnion(target);
      return Boolean.TRUE;
    }, late -> {});
  }

  /** Terminates the VM (undoing everything in it); later calls on this VM fail or do nothing. */
  synchronized void terminate() throws IOException {
    if (!alive) {
      return;
    }
    alive = false;
    attachments.clear();
    unions.clear();
    bounded.call("terminate service VM " + id, () -> {
      vm.terminate();
      return Boolean.TRUE;
    }, late -> {});
  }

  synchronized int attachmentCount() {
    return attachments.size();
  }

  synchronized int unionCount() {
    return unions.size();
  }

  synchronized List<String> unionTargets() {
    return new ArrayList<>(unions.keySet());
  }
}
