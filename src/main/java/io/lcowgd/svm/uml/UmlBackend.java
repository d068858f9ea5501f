package io.lcowgd.svm.uml;

import io.lcowgd.io.Failures;
import io.lcowgd.svm.Vm;
import io.lcowgd.svm.VmBackend;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code lcow.svm=uml} backend: every service VM is a User-mode Linux guest ({@link UmlVm}) booted from {@link
 * UvmImage}, with its files under {@code runBase/<umid>}. Umids are {@code lcow-<daemon pid>-<n>}, unique per
 * daemon. Each VM gets the scratch disk {@link ScratchDisks} makes for it (attached at boot, mounted at {@link
 * UmlVm#SCRATCH}, deleted when the VM terminates or fails to boot).
 */
public final class UmlBackend implements VmBackend {
  /** The default parent of the guests' run directories (short, for the mconsole socket path limit). */
  public static final Path DEFAULT_RUN_BASE = Path.of("/run/lcow-uml");

  private static final AtomicLong COUNTER = new AtomicLong();

  private final UvmImage image;
  private final Path runBase;
  private final UmlOptions options;
  private final UidRange uids;
  private final ScratchDisks scratch;

  /**
   * A backend whose guests run as uids of {@link UidRange#configured()} ({@code $LCOW_UML_UIDS} or the default) and
   * have no scratch disk ({@link ScratchDisks#NONE}).
   */
  public UmlBackend(UvmImage image, Path runBase, UmlOptions options) {
    this(image, runBase, options, UidRange.configured(), ScratchDisks.NONE);
  }

  /** A backend whose guests run as uids of {@link UidRange#configured()}, each with a scratch disk from {@code scratch}. */
  public UmlBackend(UvmImage image, Path runBase, UmlOptions options, ScratchDisks scratch) {
    this(image, runBase, options, UidRange.configured(), scratch);
  }

  /** A backend whose guests each run as a free uid (and gid) of {@code uids} (see {@link GuestJail}). */
  public UmlBackend(UvmImage image, Path runBase, UmlOptions options, UidRange uids) {
    this(image, runBase, options, uids, ScratchDisks.NONE);
  }

  /** A backend whose guests each run as a free uid of {@code uids}, each with a scratch disk from {@code scratch}. */
  public UmlBackend(UvmImage image, Path runBase, UmlOptions options, UidRange uids, ScratchDisks scratch) {
    this.image = image;
    this.runBase = runBase;
    this.options = options;
    this.uids = java.util.Objects.requireNonNull(uids, "uids");
    this.scratch = java.util.Objects.requireNonNull(scratch, "scratch");
  }

  /** The parent directory of this backend's run directories. */
  public Path runBase() {
    return runBase;
  }

  /** The umid prefix of every guest this daemon starts: {@code lcow-<pid>-}. */
  public static String umidPrefix() {
    return "lcow-" + ProcessHandle.current().pid() + "-";
  }

  @Override
  public String name() {
    return "uml";
  }

  @Override
  public UmlVm start(String vmId) throws IOException {
    String umid = umidPrefix() + COUNTER.incrementAndGet();
    ScratchDisk disk = scratch.create(vmId).orElse(null);
    try {
      return UmlVm.boot(vmId, umid, runBase.resolve(umid), image, options, uids, disk);
    } catch (IOException | RuntimeException e) {
      if (disk != null) {
        // boot deletes it too; this covers an early failure
        Failures.undo(e, () -> java.nio.file.Files.deleteIfExists(disk.image()));
      }
      throw e;
    }
  }

  /** Returns {@code vm} as a UML guest, for the operations beyond {@link Vm} (export, format). */
  public static UmlVm guest(Vm vm) {
    if (vm instanceof UmlVm u) {
      return u;
    }
    throw new IllegalArgumentException("not a UML service VM: " + vm);
  }
}
