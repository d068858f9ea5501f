package io.lcowgd.svm;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One reference to a running service VM. Attach disks and create union mounts through it; each returns its own
 * lease. {@link #close()} is idempotent and drops this reference (the last one stops the VM in safe mode). Close
 * the attachment and union leases first; after a forced termination they are no-ops.
 */
public final class VmLease implements AutoCloseable {
  private final ServiceVmPool pool;
  private final ServiceVmPool.Entry entry;
  private final ServiceVm svm;
  private final AtomicBoolean closed = new AtomicBoolean();

  VmLease(ServiceVmPool pool, ServiceVmPool.Entry entry, ServiceVm svm) {
    this.pool = pool;
    this.entry = entry;
    this.svm = svm;
  }

  /** The VM id (layer id, or {@link ServiceVmPool#GLOBAL_ID}). */
  public String vmId() {
    return svm.id();
  }

  /**
   * The backend's VM behind this lease, for backend-specific operations (e.g. a UML guest's tar export); callers
   * must not use it after closing the lease.
   */
  public Vm vm() {
    return svm.vm();
  }

  /** Attaches {@code hostPath}'s payload (once per VM; later calls add a reference) and returns the lease. */
  public Attachment attach(Path hostPath, PayloadRange range, AccessMode mode) throws IOException {
    checkOpen();
    String guest = svm.attach(hostPath, range, mode);
    return new Attachment(svm, hostPath, guest);
  }

  /** Creates (or adds a reference to) the union mount {@code spec}. */
  public UnionMount mountUnion(UnionSpec spec) throws IOException {
    checkOpen();
    svm.mountUnion(spec);
    return new UnionMount(svm, spec.target());
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("lease on service VM " + svm.id() + " is closed");
    }
  }

  @Override
  public void close() throws IOException {
    if (closed.compareAndSet(false, true)) {
      pool.release(entry, svm);
    }
  }

  /** A reference to one attached disk; {@link #close()} is idempotent. */
  public static final class Attachment implements AutoCloseable {
    private final ServiceVm svm;
    private final Path hostPath;
    private final String guestPath;
    private final AtomicBoolean closed = new AtomicBoolean();

    Attachment(ServiceVm svm, Path hostPath, String guestPath) {
      this.svm = svm;
      this.hostPath = hostPath;
      this.guestPath = guestPath;
    }

    public Path hostPath() {
      return hostPath;
    }

    /** Where the disk's filesystem is mounted in the VM (e.g. {@code .../d7}). */
    public String guestPath() {
      return guestPath;
    }

    @Override
    public void close() throws IOException {
      if (closed.compareAndSet(false, true)) {
        svm.detach(hostPath);
      }
    }
  }

  /** A reference to one union mount; {@link #close()} is idempotent. */
  public static final class UnionMount implements AutoCloseable {
    private final ServiceVm svm;
    private final String target;
    private final AtomicBoolean closed = new AtomicBoolean();

    UnionMount(ServiceVm svm, String target) {
      this.svm = svm;
      this.target = target;
    }

    public String target() {
      return target;
    }

    @Override
    public void close() throws IOException {
      if (closed.compareAndSet(false, true)) {
        svm.unmountUnion(target);
      }
    }
  }
}
