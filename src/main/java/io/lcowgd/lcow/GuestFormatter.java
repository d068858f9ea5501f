package io.lcowgd.lcow;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.sandbox.Ext4Formatter;
import io.lcowgd.sandbox.Mke2fsSpec;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.VmLease;
import io.lcowgd.svm.uml.UmlBackend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code lcow.svm=uml}: sandbox and scratch templates formatted by the {@code mke2fs} of a UML service VM instead of
 * the host's, with the same {@link Mke2fsSpec} (only the zeroing differs: {@link Mke2fsSpec#PREZEROED}). Each
 * format boots a VM of its own (a safe-mode pool whose VMs have no scratch disk: the scratch template itself is made
 * here) and terminates it afterwards; {@link #close()} stops any still running.
 */
final class GuestFormatter implements Ext4Formatter, AutoCloseable {
  private static final AtomicLong COUNTER = new AtomicLong();
  private static final AtomicLong FORMATTED = new AtomicLong();

  private final ServiceVmPool pool;

  /** Formats in VMs of {@code pool} (safe mode, a backend without scratch disks). */
  GuestFormatter(ServiceVmPool pool) {
    this.pool = pool;
  }

  @Override
  public void format(Path image, PayloadRange range, Mke2fsSpec spec) throws IOException {
    try (VmLease lease = pool.acquire("_lcow_mkfs_" + COUNTER.incrementAndGet())) {
      UmlBackend.guest(lease.vm()).mke2fs(image, spec.config(), spec.arguments(range.offset(), Mke2fsSpec.PREZEROED),
          range.length() / spec.blockSize());
    }
    FORMATTED.incrementAndGet();
  }

  /** How many templates this process has formatted in guests (for tests). */
  static long formatted() {
    return FORMATTED.get();
  }

  /** Terminates formatting VMs still running (driver Cleanup, shutdown). */
  @Override
  public void close() throws IOException {
    pool.cleanup();
  }
}
