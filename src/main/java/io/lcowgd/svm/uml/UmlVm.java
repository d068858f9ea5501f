package io.lcowgd.svm.uml;

import static io.lcowgd.svm.uml.GuestShell.q;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.io.Failures;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.Vm;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * One User-mode Linux service VM: a {@code linux.uml} process ({@link UmlProcess}: its own process group, a unique
 * umid, a private {@code uml_dir}, {@code mem=} cap, hostfs rooted in a per-VM directory) confined by a {@link
 * GuestJail} (a uid of its own, no capabilities, {@code no_new_privs}, a private mount namespace, only its attached
 * files reachable), booted from the {@code scripts/build-uvm} initramfs, driven through its guest agent ({@link
 * GuestShell}). Disks are hot-plugged as ubd devices through mconsole ({@link UbdDisks}; read-only ones as
 * {@code ubdNr}) and mounted at {@code /tmp/<shortName>} in the guest; a payload that does not start at byte 0 goes
 * through a guest loop device; beyond the 15 ubd slots, disks go through hostfs and a guest loop device ({@link
 * HostfsDisks}).
 */
public final class UmlVm implements Vm {
  /** Where the VM's scratch disk (the first ubd slot, hot-plugged right after boot) is mounted in the guest. */
  public static final String SCRATCH = "/tmp/scratch";

  /** Single-quotes {@code s} as one word of a guest shell command (for {@link #run} and {@link #stream}). */
  public static String quote(String s) {
    return q(s);
  }
  /** A symlink in the run directory naming the VM's scratch file, for a later stale-guest clean-up. */
  static final String SCRATCH_RECORD = "scratch";

  private final String id;
  private final String umid;
  private final UmlProcess guest;
  private final GuestShell shell;
  private final GuestJail jail;
  private final UbdDisks ubd;
  private final HostfsDisks hostfs;
  private final Set<String> unions = new LinkedHashSet<>();
  private final ScratchDisk scratch;
  private volatile long bootMillis;

  private UmlVm(String id, String umid, Path runDir, UmlProcess guest, UmlOptions options, GuestJail jail,
      ScratchDisk scratch) {
    this.id = id;
    this.umid = umid;
    this.guest = guest;
    this.shell = new GuestShell(id, guest.agent(), options.opTimeout());
    this.jail = jail;
    this.ubd = new UbdDisks(id, runDir.resolve("disks"), jail, guest, shell);
    this.hostfs = new HostfsDisks(id, runDir.resolve("hostfs"), jail, guest, shell);
    this.scratch = scratch;
  }

  /**
   * Boots a guest for VM id {@code id} under umid {@code umid} with run directory {@code runDir} (created, mode
   * 0711 with a guest-owned {@code uml/}, removed again by {@link #terminate()}) and returns once its agent said
   * hello; the guest runs as a free uid of {@link UidRange#configured()} and has no scratch disk.
   */
  static UmlVm boot(String id, String umid, Path runDir, UvmImage image, UmlOptions options) throws IOException {
    return boot(id, umid, runDir, image, options, UidRange.configured(), null);
  }

  /**
   * As {@link #boot(String, String, Path, UvmImage, UmlOptions)}, the guest running as a free uid of {@code uids};
   * if {@code scratch} is not null, that disk is then hot-plugged read-write and mounted at {@link #SCRATCH}
   * before the VM is returned. The scratch file is deleted when the boot fails or the VM terminates.
   */
  static UmlVm boot(String id, String umid, Path runDir, UvmImage image, UmlOptions options, UidRange uids,
      ScratchDisk scratch)
      throws IOException {
    long t0 = System.nanoTime();
    Files.createDirectories(runDir.getParent());
    Files.createDirectory(runDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    UmlProcess guest = null;
    GuestJail jail = null;
    try {
      jail = GuestJail.open(uids, runDir);
      Files.createDirectory(runDir.resolve("hostfs"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwxr-xr-x")));
      Files.createDirectory(runDir.resolve("disks"), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx--x--x")));
      if (scratch != null) {
        // Tells a later stale-guest clean-up which scratch file this VM had (StaleGuests).
        Files.createSymbolicLink(runDir.resolve(SCRATCH_RECORD), scratch.image().toAbsolutePath());
      }
      guest = new UmlProcess(id, umid, runDir, jail);
      guest.start(image, options, jail);
      UmlVm vm = new UmlVm(id, umid, runDir, guest, options, jail, scratch);
      if (scratch != null) {
        try {
          vm.mountScratch();
        } catch (IOException | RuntimeException e) {
          Failures.undo(e, vm::terminate);
          throw new IOException("start UML service VM " + id + " (umid " + umid + "): " + e.getMessage(), e);
        }
      }
      vm.bootMillis = (System.nanoTime() - t0) / 1_000_000;
      return vm;
    } catch (IOException | RuntimeException e) {
      if (guest == null) {
        Failures.undo(e, () -> io.lcowgd.io.FileTrees.deleteTree(runDir));
      } else {
        Failures.undo(e, guest::destroy);
      }
      if (jail != null) {
        Failures.undo(e, jail::close);
      }
      Failures.undo(e, () -> deleteScratch(scratch));
      throw new IOException("start UML service VM " + id + " (umid " + umid + "): " + e.getMessage(), e);
    }
  }

  /**
   * Hot-plugs the scratch disk read-write into the first free ubd slot (exposed to the guest uid like every
   * attachment, {@link GuestJail#expose}) and mounts it at {@link #SCRATCH} with a world-writable {@code tmp/} for
   * the agent.
   */
  private void mountScratch() throws IOException {
    // ubd0 cannot be hot-plugged (UML keeps it configured as its default root disk, and an mconsole "remove ubd0"
    // aborts the kernel), and a disk on the kernel command line is not reachable from the jail: take a free slot.
    UbdDisks.Disk d = ubd.plug(scratch.image(), AccessMode.READ_WRITE);
    String dev = UbdDisks.device(d.index());
    String c;
    if (scratch.range().offset() == 0) {
      c = "mkdir -p " + SCRATCH + " && mount -t ext4 " + dev + " " + SCRATCH;
    } else {
      c = "l=$(losetup -f) && losetup -o " + scratch.range().offset() + " $l " + dev + " && mkdir -p " + SCRATCH
          + " && { mount -t ext4 $l " + SCRATCH + " || { losetup -d $l; exit 1; }; }";
    }
    GuestAgent.Result r = shell.result(c + " && mkdir -p " + SCRATCH + "/tmp && chmod 1777 " + SCRATCH + "/tmp");
    if (r.status() != 0) {
      throw new IOException("mount scratch disk " + scratch.image() + " (payload " + scratch.range().offset() + "+"
          + scratch.range().length() + ") at " + SCRATCH + ": status " + r.status() + ": " + r.stderrText());
    }
  }

  private static void deleteScratch(ScratchDisk scratch) throws IOException {
    if (scratch != null) {
      Files.deleteIfExists(scratch.image());
    }
  }

  /** The scratch disk mounted at {@link #SCRATCH}, if this VM has one. */
  public java.util.Optional<ScratchDisk> scratch() {
    return java.util.Optional.ofNullable(scratch);
  }

  /**
   * The guest directory for temporary files: {@code /tmp/scratch/tmp} on the scratch disk, or the guest's RAM
   * {@code /tmp} (16 MiB) without one. The agent captures command output there and sets {@code TMPDIR} to it.
   */
  public String tempDir() {
    return scratch == null ? "/tmp" : SCRATCH + "/tmp";
  }

  /**
   * A writable union at {@code target} over {@code lowers} whose upper and work directories ({@code <name>/upper},
   * {@code <name>/work}) lie on the scratch disk, not in guest RAM; fails if this VM has no scratch disk.
   */
  public UnionSpec scratchUnion(String target, List<String> lowers, String name) throws IOException {
    if (scratch == null) {
      throw new IOException("service VM " + id + " has no scratch disk for the union " + target);
    }
    if (!name.matches("[A-Za-z0-9_.-]+") || name.equals("tmp") || name.startsWith(".")) {
      throw new IllegalArgumentException("scratch directory name " + name + " is not a plain file name");
    }
    return UnionSpec.writable(target, lowers, SCRATCH + "/" + name + "/upper", SCRATCH + "/" + name + "/work");
  }

  /** The VM id (layer id or the pool's global id). */
  public String id() {
    return id;
  }

  /** The unique UML umid of this guest. */
  public String umid() {
    return umid;
  }

  /** The host pid of the UML kernel process (leader of the guest's process group). */
  public long pid() {
    return guest.pid();
  }

  /** Milliseconds from the start request to the guest agent's hello. */
  public long bootMillis() {
    return bootMillis;
  }

  /** Whether the UML process is still running, was not terminated, and its agent is in step (no request timed out). */
  @Override
  public boolean alive() {
    return guest.alive();
  }

  /** Runs {@code command} ({@code sh -c}) in the guest; returns its stdout, or fails with its status and stderr. */
  public String run(String command) throws IOException {
    return shell.run(command);
  }

  /**
   * Runs {@code command} in the guest and streams its stdout to {@code sink} as it is produced (guest to host over
   * the data line, bounded chunks); returns the byte count, or fails with the command's status and stderr.
   */
  public long stream(String command, OutputStream sink) throws IOException {
    return shell.stream(command, sink);
  }

  /**
   * Formats the payload {@code range} of image {@code hostPath} as ext4 with the guest's {@code mkfs.ext4}
   * ({@code extraOptions} are appended, e.g. {@code -O ^has_journal}); the host file must already have its size.
   */
  public void formatExt4(Path hostPath, PayloadRange range, String extraOptions) throws IOException {
    UbdDisks.Disk d = ubd.plug(hostPath, AccessMode.READ_WRITE);
    try {
      String dev = UbdDisks.device(d.index());
      String sizeBlocks = Long.toString(range.length() / 1024);
      String c;
      if (range.offset() == 0) {
        c = "mkfs.ext4 -q -F " + extraOptions + " " + dev + " " + sizeBlocks;
      } else {
        c = "l=$(losetup -f) && losetup -o " + range.offset() + " $l " + dev + " && { mkfs.ext4 -q -F " + extraOptions
            + " $l " + sizeBlocks + "; rc=$?; losetup -d $l; exit $rc; }";
      }
      run(c + " && sync");
    } finally {
      ubd.unplug(d);
    }
  }

  /**
   * Runs the guest's e2fsprogs {@code mke2fs} (not busybox's) on image {@code hostPath}, attached read-write as a
   * whole block device: {@code MKE2FS_CONFIG=<mke2fsConfig> /sbin/mke2fs <options> <device> <blocks>}. The options
   * name the payload offset themselves ({@code -E offset=...}); the config text is written to a guest temporary file
   * (it must fit in one agent line, about 3.5 KB once escaped).
   */
  public void mke2fs(Path hostPath, String mke2fsConfig, List<String> options, long blocks) throws IOException {
    StringBuilder fmt = new StringBuilder();
    for (char ch : mke2fsConfig.toCharArray()) {
      switch (ch) {
        case '\\' -> fmt.append("\\\\");
        case '%' -> fmt.append("%%");
        case '\n' -> fmt.append("\\n");
        case '\t' -> fmt.append("\\t");
        default -> fmt.append(ch);
      }
    }
    StringBuilder args = new StringBuilder();
    for (String o : options) {
      args.append(q(o)).append(' ');
    }
    UbdDisks.Disk d = ubd.plug(hostPath, AccessMode.READ_WRITE);
    try {
      String conf = tempDir() + "/.mke2fs.conf";
      run("printf " + q(fmt.toString()) + " > " + conf + " && MKE2FS_CONFIG=" + conf + " /sbin/mke2fs " + args
          + UbdDisks.device(d.index()) + " " + blocks + "; rc=$?; rm -f " + conf + "; [ $rc = 0 ] && sync; exit $rc");
    } catch (IOException e) {
      throw new IOException("format " + hostPath + " with mke2fs in service VM " + id + ": " + e.getMessage(), e);
    } finally {
      ubd.unplug(d);
    }
  }

  @Override
  public String attach(Path hostPath, PayloadRange range, AccessMode mode, String shortName) throws IOException {
    if (!shortName.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("short name " + shortName + " is not a plain file name");
    }
    String mp = "/tmp/" + shortName;
    if (ubd.holds(mp) || hostfs.holds(mp)) {
      throw new IOException("attach " + hostPath + ": " + mp + " is already in use in service VM " + id);
    }
    if (!ubd.hasFreeSlot()) {
      return hostfs.attach(hostPath, range, mode, mp);
    }
    return ubd.attach(hostPath, range, mode, mp);
  }

  @Override
  public void detach(String guestPath) throws IOException {
    if (!hostfs.detach(guestPath)) {
      ubd.detach(guestPath);
    }
  }

  @Override
  public void sync(String guestPath) throws IOException {
    run("sync -f " + q(guestPath));
  }

  @Override
  public void mountUnion(UnionSpec spec) throws IOException {
    String t = q(spec.target());
    String c;
    if (!spec.writable() && spec.lowers().size() == 1) {
      c = "mkdir -p " + t + " && mount -o bind " + q(spec.lowers().get(0)) + " " + t
          + " && mount -o remount,bind,ro " + t;
    } else {
      List<String> lowers = spec.lowers().isEmpty() ? List.of("/tmp/.empty-lower") : spec.lowers();
      StringBuilder o = new StringBuilder("lowerdir=").append(String.join(":", lowers));
      StringBuilder mk = new StringBuilder("mkdir -p " + t + " /tmp/.empty-lower");
      if (spec.writable()) {
        o.append(",upperdir=").append(spec.upper()).append(",workdir=").append(spec.work());
        mk.append(' ').append(q(spec.upper())).append(' ').append(q(spec.work()));
      }
      c = mk + " && mount -t overlay " + (spec.writable() ? "" : "-o ro ") + "-o " + q(o.toString()) + " overlay " + t;
    }
    try {
      run(c);
    } catch (IOException e) {
      throw new IOException("union mount " + spec.target() + " (" + spec.lowers().size() + " lower layers) in service VM "
          + id + ": " + e.getMessage(), e);
    }
    unions.add(spec.target());
  }

  @Override
  public void unmountUnion(String target) throws IOException {
    if (!unions.contains(target)) {
      throw new IOException("unmount " + target + ": no union mount there in service VM " + id);
    }
    run("umount " + q(target) + " && rmdir " + q(target));
    unions.remove(target);
  }

  /** Kills the guest's whole process group (UML leaves helper processes behind otherwise) and removes its files. */
  @Override
  public synchronized void terminate() throws IOException {
    if (!guest.markTerminated()) {
      return;
    }
    ubd.clear();
    unions.clear();
    hostfs.clear();
    try {
      guest.destroy();
    } finally {
      try {
        jail.close();
      } finally {
        deleteScratch(scratch); // the process group is gone (or failed to go): the file is no longer written
      }
    }
  }

  /** The uid the guest runs as on the host (also its gid). */
  public int hostUid() {
    return jail.uid();
  }

  /** The host files attached to this guest now (each reachable to {@link #hostUid()} through an ACL entry). */
  public Set<Path> exposedFiles() {
    return jail.exposedFiles();
  }
}
