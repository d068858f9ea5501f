package io.lcowgd.svm.host;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.io.Failures;
import io.lcowgd.posix.LibC;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.Vm;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One "service VM" of the {@link HostBackend}: a directory {@code <runDir>/<n>} holding the ext4 mounts of its
 * attachments, plus the union mounts made for it. The pool serialises calls, so fields need no lock.
 */
final class HostVm implements Vm {
  private static final FileAttribute<Set<PosixFilePermission>> DIR_0755 =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));

  private final String id;
  private final Path dir;
  private final String emptyLower;
  private final String readWriteMountData;
  private final SharedMounts shared;
  private final Runnable onTerminated;
  private boolean terminated;
  private final Map<String, LoopDevice> attached = new LinkedHashMap<>();
  private final Map<String, SharedMounts.Key> linked = new LinkedHashMap<>();
  private final Map<String, Path> unions = new LinkedHashMap<>(); // target -> its mask directory or null
  private long maskCounter;

  HostVm(String id, Path dir, String emptyLower, String readWriteMountData, SharedMounts shared,
      Runnable onTerminated) {
    this.id = id;
    this.onTerminated = onTerminated;
    this.shared = shared;
    this.dir = dir;
    this.emptyLower = emptyLower;
    this.readWriteMountData = readWriteMountData;
  }

  @Override
  public String attach(Path hostPath, PayloadRange range, AccessMode mode, String shortName) throws IOException {
    Path mp = dir.resolve(shortName);
    if (mode == AccessMode.READ_ONLY) {
      SharedMounts.Key key = SharedMounts.key(hostPath.toAbsolutePath().normalize(), range);
      Path target = shared.acquire(key);
      try {
        Files.createSymbolicLink(mp, target);
      } catch (IOException e) {
        shared.release(key);
        throw new IOException("attach " + hostPath + " in service VM " + id + ": " + e.getMessage(), e);
      }
      linked.put(mp.toString(), key);
      return mp.toString();
    }
    // About to be written: a lingering read-only mount of it would go stale.
    shared.forget(hostPath.toAbsolutePath().normalize());
    Files.createDirectories(mp);
    LoopDevice loop = LoopDevice.attach(hostPath, range, mode);
    try {
      if (mode == AccessMode.READ_ONLY) {
        // noload: never replay a journal on a read-only image (the GCS's choice for read-only disks).
        Sys.mount(loop.path(), mp.toString(), "ext4", LibC.MS_RDONLY, "noload");
      } else {
        Sys.mount(loop.path(), mp.toString(), "ext4", 0, readWriteMountData.isEmpty() ? null : readWriteMountData);
      }
    } catch (IOException e) {
      Failures.undo(e, loop::close);
      deleteDir(mp);
      throw new IOException("attach " + hostPath + " in service VM " + id + ": " + e.getMessage(), e);
    }
    attached.put(mp.toString(), loop);
    return mp.toString();
  }

  @Override
  public void detach(String guestPath) throws IOException {
    SharedMounts.Key key = linked.remove(guestPath);
    if (key != null) {
      Files.deleteIfExists(Path.of(guestPath));
      shared.release(key);
      return;
    }
    LoopDevice loop = attached.remove(guestPath);
    if (loop == null) {
      throw new IOException("detach " + guestPath + ": nothing attached there in service VM " + id);
    }
    IOException failure = null;
    try {
      unmount(guestPath);
    } catch (IOException e) {
      failure = e;
    }
    try {
      loop.close();
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    deleteDir(Path.of(guestPath));
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void sync(String guestPath) throws IOException {
    Sys.syncfs(guestPath);
  }

  @Override
  public void mountUnion(UnionSpec spec) throws IOException {
    Path target = Path.of(spec.target());
    Files.createDirectories(target);
    Path mask = null;
    try {
      if (!spec.hidden().isEmpty()) {
        // The topmost lower: a directory of whiteouts (0/0 character devices) masking those names in every layer.
        mask = dir.resolve("h" + (++maskCounter));
        makeMask(mask, spec.hidden(), spec.lowers().isEmpty() ? null : Path.of(spec.lowers().get(0)));
        List<String> lowers = new ArrayList<>();
        lowers.add(mask.toString());
        lowers.addAll(spec.lowers());
        spec = new UnionSpec(spec.target(), lowers, spec.upper(), spec.work(), List.of());
      }
      if (!spec.writable() && spec.lowers().size() == 1) {
        // One read-only layer (FROM scratch): a bind mount, as the original did (moby PR#36052).
        Sys.mount(spec.lowers().get(0), spec.target(), null, LibC.MS_BIND, null);
        try {
          Sys.mount(null, spec.target(), null, LibC.MS_REMOUNT | LibC.MS_BIND | LibC.MS_RDONLY, null);
        } catch (IOException e) {
          Sys.umount(spec.target(), LibC.MNT_DETACH);
          throw e;
        }
      } else {
        UnionSpec s = spec;
        if (spec.writable()) {
          makeDir(Path.of(spec.upper()));
          makeDir(Path.of(spec.work()));
          if (spec.lowers().isEmpty()) {
            s = UnionSpec.writable(spec.target(), List.of(emptyLower), spec.upper(), spec.work());
          }
        }
        if (!NewMountApi.mountOverlay(s)) {
          // mount(2): one page of options. Paths relative to this VM's directory ("d7/upper") keep 125+ layers in it.
          UnionSpec rel = relativeTo(dir, s);
          Sys.mountIn(dir.toString(), "overlay", spec.target(), "overlay", s.writable() ? 0 : LibC.MS_RDONLY,
              OverlayOptions.of(rel));
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      deleteDir(target);
      deleteMask(mask);
      throw new IOException("union mount " + spec.target() + " (" + spec.lowers().size() + " lower layers) in service VM "
          + id + ": " + e.getMessage(), e);
    }
    unions.put(spec.target(), mask);
  }

  /** Makes {@code mask} with a whiteout per name; its own mode and owner copy {@code like}'s (the root's look). */
  private static void makeMask(Path mask, List<String> names, Path like) throws IOException {
    Files.createDirectory(mask, DIR_0755);
    Files.setPosixFilePermissions(mask, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (String n : names) {
      try {
        LibC.INSTANCE.mknod(mask.resolve(n).toString(), 0020000, 0);
      } catch (com.sun.jna.LastErrorException e) {
        throw Sys.error("mknod whiteout " + mask.resolve(n), e);
      }
    }
    if (like != null) {
      Files.setPosixFilePermissions(mask, Files.getPosixFilePermissions(like));
      Files.setOwner(mask, Files.getOwner(like));
    }
  }

  private static void deleteMask(Path mask) {
    if (mask == null) {
      return;
    }
    try (var ds = Files.newDirectoryStream(mask)) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // left for the run directory's clean-up
    }
    deleteDir(mask);
  }

  @Override
  public void unmountUnion(String target) throws IOException {
    if (!unions.containsKey(target)) {
      throw new IOException("unmount " + target + ": no union mount there in service VM " + id);
    }
    Path mask = unions.remove(target);
    unmount(target);
    deleteDir(Path.of(target));
    deleteMask(mask);
  }

  @Override
  public void terminate() throws IOException {
    IOException failure = null;
    for (String u : new ArrayList<>(unions.keySet())) {
      try {
        unmountUnion(u);
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    List<String> guests = new ArrayList<>(attached.keySet());
    guests.addAll(linked.keySet());
    for (int i = guests.size() - 1; i >= 0; i--) {
      try {
        detach(guests.get(i));
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    deleteDir(dir);
    if (!terminated) {
      terminated = true;
      onTerminated.run();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** {@code s} with every path below the run directory made relative to the VM directory {@code vmDir}. */
  static UnionSpec relativeTo(Path vmDir, UnionSpec s) {
    List<String> lowers = new ArrayList<>();
    for (String l : s.lowers()) {
      lowers.add(rel(vmDir, l));
    }
    return new UnionSpec(s.target(), lowers, s.upper() == null ? null : rel(vmDir, s.upper()),
        s.work() == null ? null : rel(vmDir, s.work()), s.hidden());
  }

  private static String rel(Path vmDir, String p) {
    Path path = Path.of(p);
    if (path.startsWith(vmDir.getParent())) {
      return vmDir.relativize(path).toString();
    }
    return p;
  }

  /** Creates {@code p} with mode 0755 whatever the umask (the root of a container must be 0755). */
  private static void makeDir(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      Files.createDirectory(p, DIR_0755);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /** Unmounts {@code path}, retrying briefly on EBUSY, then detaching lazily as the last resort. */
  static void unmount(String path) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        Sys.umount(path, 0);
        return;
      } catch (Sys.ErrnoException e) {
        if (e.errno == LibC.EINVAL && !MountTable.isMountPoint(path)) {
          return; // already gone
        }
        if (e.errno != LibC.EBUSY) {
          throw e;
        }
        if (attempt >= 20) {
          Sys.umount(path, LibC.MNT_DETACH);
          return;
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          Sys.umount(path, LibC.MNT_DETACH);
          return;
        }
      }
    }
  }

  private static void deleteDir(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (DirectoryNotEmptyException e) {
      // Something was written into the bare mount point directory; leave it rather than delete data.
    } catch (IOException e) {
      // A leftover empty directory under the run directory is harmless and removed by the next cleanStale.
    }
  }
}
