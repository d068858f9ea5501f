package io.lcowgd.svm.host;

import io.lcowgd.svm.Vm;
import io.lcowgd.svm.VmBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Linux host kernel as the service VM: attach = a loop device over the image's payload mounted as ext4,
 * union mount = overlayfs, all in this process's mount namespace (so dockerd and runc see the union mounts).
 *
 * <p>Read-only attachments share one loop device and mount per image across all VMs ({@link SharedMounts}); each VM
 * links its short name to it. Read-write attachments (sandboxes) are exclusive to their VM.
 *
 * <p>Attachments are mounted at short paths {@code <runDir>/<vm>/<dN>} (about 25 bytes each), which keeps the
 * overlay option string of 125+ layers within the kernel's one-page limit. The run directory defaults to
 * {@code /run/lcow/<6 hex of sha256(dataRoot)>}, so instances with different data roots never collide.
 */
public final class HostBackend implements VmBackend {
  private final Path runDir;
  private final Path dataRoot;
  private final String readWriteMountData;
  private final AtomicLong vmCounter = new AtomicLong();
  private final SharedMounts shared;
  // @GuardedBy("this")
  private int liveVms;

  /** Idle shared read-only mounts kept at most (see {@link SharedMounts}). */
  static final int MAX_IDLE_SHARED = 64;
  /**
   * How long an idle shared read-only mount is kept at most: long enough to bridge dockerd's Put-then-Get of a
   * container start, short enough that the last release is undone promptly (a background reaper unmounts it).
   */
  static final long IDLE_SHARED_NANOS = 1_000_000_000L;

  /**
   * @param runDir where attachments are mounted; keep it short (see {@link #defaultRunDir})
   * @param dataRoot the data root: loop devices backed by files below it count as ours in {@link #cleanStale}
   * @param readWriteMountData ext4 mount data for read-write attachments (sandboxes), e.g. {@code ""}
   */
  public HostBackend(Path runDir, Path dataRoot, String readWriteMountData) {
    this.runDir = runDir.toAbsolutePath().normalize();
    this.dataRoot = dataRoot.toAbsolutePath().normalize();
    this.readWriteMountData = Objects.requireNonNull(readWriteMountData);
    this.shared = new SharedMounts(this.runDir.resolve("s"), MAX_IDLE_SHARED, IDLE_SHARED_NANOS);
  }

  /** {@code /run/lcow/<first 6 hex digits of sha256(dataRoot)>}. */
  public static Path defaultRunDir(Path dataRoot) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest(dataRoot.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
      return Path.of("/run/lcow", HexFormat.of().formatHex(h, 0, 3));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Whether overlay mounts may use the new mount API ({@code fsconfig lowerdir+}, Linux 6.8+; default true, with an
   * automatic fall-back to mount(2) on older kernels). Tests switch it off to exercise the mount(2) path.
   */
  public static void useNewMountApi(boolean use) {
    NewMountApi.disableForTests(!use);
  }

  public Path runDir() {
    return runDir;
  }

  @Override
  public String name() {
    return "host";
  }

  @Override
  public synchronized Vm start(String vmId) throws IOException {
    Files.createDirectories(runDir);
    Path dir = runDir.resolve(Long.toString(vmCounter.incrementAndGet(), 36));
    Files.createDirectories(dir);
    Path empty = runDir.resolve("e");
    if (!Files.isDirectory(empty)) {
      Files.createDirectories(empty, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    }
    liveVms++;
    return new HostVm(vmId, dir, empty.toString(), readWriteMountData, shared, this::vmGone);
  }

  private synchronized void vmGone() {
    liveVms--;
  }

  @Override
  public void forget(Path hostPath) throws IOException {
    shared.forget(hostPath.toAbsolutePath().normalize());
  }

  @Override
  public void releaseIdle() throws IOException {
    shared.releaseIdle();
    synchronized (this) {
      if (liveVms == 0 && shared.size() == 0 && Files.isDirectory(runDir)) {
        deleteEmptyDirs(runDir); // nothing runs: leave no directory behind in /run
      }
    }
  }

  /** Shared read-only mounts in use or idle; for tests. */
  int sharedMountCount() {
    return shared.size();
  }

  /**
   * Undoes what a crashed earlier instance left behind, touching only what is ours: mounts below the run
   * directory and below {@code extraMountRoot} (where union mounts live), then loop devices whose backing file
   * lies below the data root. Returns how many mounts and devices it removed.
   */
  public int cleanStale(Path extraMountRoot) throws IOException {
    int n = 0;
    for (Path root : new Path[] {extraMountRoot.toAbsolutePath().normalize(), runDir}) {
      for (String mp : MountTable.under(root)) {
        Sys.umount(mp, LibC.MNT_DETACH);
        n++;
      }
    }
    n += clearLoops(dataRoot);
    if (Files.isDirectory(runDir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(runDir)) {
        for (Path p : ds) {
          deleteEmptyDirs(p);
        }
      }
    }
    return n;
  }

  /** Clears loop devices whose backing file lies below {@code root}; returns how many. */
  static int clearLoops(Path root) throws IOException {
    int n = 0;
    String prefix = root.toString().endsWith("/") ? root.toString() : root + "/";
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/sys/block"), "loop*")) {
      for (Path p : ds) {
        String backing;
        try {
          backing = Files.readString(p.resolve("loop/backing_file")).trim();
        } catch (NoSuchFileException e) {
          continue; // unbound
        }
        if (backing.startsWith(prefix)) {
          if (LoopDevice.clear(Integer.parseInt(p.getFileName().toString().substring(4)))) {
            n++;
          }
        }
      }
    }
    return n;
  }

  private static void deleteEmptyDirs(Path p) throws IOException {
    if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
        for (Path c : ds) {
          deleteEmptyDirs(c);
        }
      }
      try {
        Files.deleteIfExists(p);
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        // a file (not ours to delete) remains; leave the directory
      }
    }
  }
}
