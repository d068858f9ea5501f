package io.lcowgd.svm.uml;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.Vm;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One User-mode Linux service VM: a {@code linux.uml} process (its own process group, a unique umid, a private
 * {@code uml_dir}, {@code mem=} cap, hostfs rooted in a per-VM directory) confined by a {@link GuestJail} (a uid of
 * its own, no capabilities, {@code no_new_privs}, a private mount namespace, only its attached files reachable),
 * booted from the {@code scripts/build-uvm} initramfs, driven through its guest agent. Disks are hot-plugged as ubd
 * devices through mconsole (read-only ones as {@code ubdNr}) and mounted at {@code /tmp/<shortName>} in the guest; a
 * payload that does not start at byte 0 goes through a guest loop device; beyond the 15 ubd slots, disks go through
 * hostfs and a guest loop device.
 */
public final class UmlVm implements Vm {
  /** ubd0 is unused (no root disk); ubd1..ubd15 hold the scratch disk and attachments (UML's limit is 16 devices). */
  static final int MAX_DISKS = 15;
  /** Where the VM's scratch disk (the first ubd slot, hot-plugged right after boot) is mounted in the guest. */
  public static final String SCRATCH = "/tmp/scratch";
  /** A symlink in the run directory naming the VM's scratch file, for a later stale-guest clean-up. */
  static final String SCRATCH_RECORD = "scratch";

  /**
   * Boot tuning (docs/uml.md, "Boot time"): skip the raid6 benchmark and two slow initcalls (utility-vms.md U13),
   * create no legacy BSD ptys (the default 256 pairs are 512 devtmpfs nodes, each a round trip to kdevtmpfs:
   * 0.4 s of every boot), and preset loops_per_jiffy instead of calibrating the delay loop (~10 ticks at HZ=100,
   * ~0.1 s; the value only scales udelay(), which no UML driver the guest uses depends on).
   */
  static final List<String> FAST_BOOT = List.of("initcall_blacklist=raid6_select_algo,init_zswap,strp_dev_init",
      "pty.legacy_count=0", "lpj=9773056");

  private record Disk(int index, String loopDevice, Path link) {}

  /** A disk beyond the ubd slots: {@code file} in the hostfs directory, a guest loop device over it. */
  private record HostfsDisk(Path file, String loopDevice) {}

  private final String id;
  private final String umid;
  private final Path runDir;
  private final Process process;
  private final GuestAgent agent;
  private final UmlOptions options;
  private final Path mconsole;
  private final Map<String, Disk> disks = new HashMap<>();
  private final Set<String> unions = new LinkedHashSet<>();
  private final GuestJail jail;
  private final Map<String, HostfsDisk> viaHostfs = new HashMap<>();
  private long hostfsCounter;
  private boolean hostfsMounted;
  private final ScratchDisk scratch;
  private volatile long bootMillis;
  private volatile boolean terminated;

  private UmlVm(String id, String umid, Path runDir, Process process, GuestAgent agent, UmlOptions options,
      GuestJail jail, ScratchDisk scratch) {
    this.jail = jail;
    this.id = id;
    this.umid = umid;
    this.runDir = runDir;
    this.process = process;
    this.agent = agent;
    this.options = options;
    this.mconsole = jail.umlDir().resolve(umid).resolve("mconsole");
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
    Process p = null;
    GuestAgent agent = null;
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
      exec(List.of("mkfifo", "-m", "600", runDir.resolve("ci").toString(), runDir.resolve("co").toString(),
          runDir.resolve("dout").toString()), "create the agent FIFOs of service VM " + id);
      Path console = runDir.resolve("console.log");
      Process[] holder = new Process[1];
      agent = new GuestAgent(id, runDir.resolve("ci"), runDir.resolve("co"), runDir.resolve("dout"),
          () -> deathNote(holder[0], console));
      // The root shell opens the FIFOs and the initrd (the guest uid may not reach the kirdpath), then the guest
      // runs confined (GuestJail.wrap) and reads its initrd through the inherited descriptor 6.
      List<String> uml = new ArrayList<>(List.of(image.kernel().toString(),
          "mem=" + options.memoryMiB() + "M", "umid=" + umid, "uml_dir=" + jail.umlDir(), "con=null", "ssl=null",
          "ssl1=fd:3,fd:4", "ssl2=null,fd:5", "hostfs=" + runDir.resolve("hostfs"),
          "initrd=/proc/self/fd/6", "rdinit=/init", "quiet"));
      uml.addAll(FAST_BOOT);
      uml.addAll(image.bootParameters());
      List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c",
          "i=$0; exec \"$@\" 3<ci 4>co 5>dout 6<\"$i\" </dev/null", image.initrd().toString()));
      cmd.addAll(jail.wrap(uml));
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(runDir.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(console.toFile()).redirectErrorStream(true);
      pb.environment().put("TMPDIR", "/dev/shm");
      pb.environment().putAll(jail.environment(List.of(runDir, image.kernel())));
      p = pb.start();
      jail.started(p.pid());
      holder[0] = p;
      GuestAgent a = agent;
      p.onExit().thenRun(a::guestExited);
      agent.awaitHello(options.bootTimeout());
      UmlVm vm = new UmlVm(id, umid, runDir, p, agent, options, jail, scratch);
      if (scratch != null) {
        try {
          vm.mountScratch();
        } catch (IOException | RuntimeException e) {
          try {
            vm.terminate();
          } catch (IOException te) {
            e.addSuppressed(te);
          }
          throw new IOException("start UML service VM " + id + " (umid " + umid + "): " + e.getMessage(), e);
        }
      }
      vm.bootMillis = (System.nanoTime() - t0) / 1_000_000;
      return vm;
    } catch (IOException | RuntimeException e) {
      try {
        cleanUp(p, agent, runDir);
      } catch (IOException ce) {
        e.addSuppressed(ce);
      }
      if (jail != null) {
        try {
          jail.close();
        } catch (IOException ce) {
          e.addSuppressed(ce);
        }
      }
      try {
        deleteScratch(scratch);
      } catch (IOException ce) {
        e.addSuppressed(ce);
      }
      throw new IOException("start UML service VM " + id + " (umid " + umid + "): " + e.getMessage(), e);
    }
  }

  /**
   * Hot-plugs the scratch disk read-write into the first free ubd slot (exposed to the guest uid like every attachment, {@link
   * GuestJail#expose}) and mounts it at {@link #SCRATCH} with a world-writable {@code tmp/} for the agent.
   */
  private void mountScratch() throws IOException {
    // ubd0 cannot be hot-plugged (UML keeps it configured as its default root disk, and an mconsole "remove ubd0"
    // aborts the kernel), and a disk on the kernel command line is not reachable from the jail: take a free slot.
    Disk d = plug(scratch.image(), AccessMode.READ_WRITE);
    String dev = ubdDevice(d.index());
    String c;
    if (scratch.range().offset() == 0) {
      c = "mkdir -p " + SCRATCH + " && mount -t ext4 " + dev + " " + SCRATCH;
    } else {
      c = "l=$(losetup -f) && losetup -o " + scratch.range().offset() + " $l " + dev + " && mkdir -p " + SCRATCH
          + " && { mount -t ext4 $l " + SCRATCH + " || { losetup -d $l; exit 1; }; }";
    }
    GuestAgent.Result r = agent.run(c + " && mkdir -p " + SCRATCH + "/tmp && chmod 1777 " + SCRATCH + "/tmp",
        options.opTimeout());
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
    return process.pid();
  }

  /** Milliseconds from the start request to the guest agent's hello. */
  public long bootMillis() {
    return bootMillis;
  }

  /** Whether the UML process is still running, was not terminated, and its agent is in step (no request timed out). */
  @Override
  public boolean alive() {
    return process.isAlive() && !terminated && !agent.outOfStep();
  }

  /** Runs {@code command} ({@code sh -c}) in the guest; returns its stdout, or fails with its status and stderr. */
  public String run(String command) throws IOException {
    GuestAgent.Result r = agent.run(command, options.opTimeout());
    if (r.status() != 0) {
      throw new IOException("service VM " + id + ": '" + GuestAgent.abbrev(command) + "' failed with status "
          + r.status() + ": " + r.stderrText());
    }
    return r.stdoutText();
  }

  /**
   * Runs {@code command} in the guest and streams its stdout to {@code sink} as it is produced (guest to host over
   * the data line, bounded chunks); returns the byte count, or fails with the command's status and stderr.
   */
  public long stream(String command, OutputStream sink) throws IOException {
    GuestAgent.Result r = agent.stream(command, sink, options.opTimeout());
    if (r.status() != 0) {
      throw new IOException("service VM " + id + ": '" + GuestAgent.abbrev(command) + "' failed with status "
          + r.status() + " after " + r.streamed() + " bytes: " + r.stderrText());
    }
    return r.streamed();
  }

  /** Streams a tar of the guest directory {@code guestDir} (busybox tar, numeric owners kept) to {@code sink}. */
  public long exportTar(String guestDir, OutputStream sink) throws IOException {
    return stream("tar -cf - -C " + q(guestDir) + " .", sink);
  }

  /**
   * Formats the payload {@code range} of image {@code hostPath} as ext4 with the guest's {@code mkfs.ext4}
   * ({@code extraOptions} are appended, e.g. {@code -O ^has_journal}); the host file must already have its size.
   */
  public void formatExt4(Path hostPath, PayloadRange range, String extraOptions) throws IOException {
    Disk d = plug(hostPath, AccessMode.READ_WRITE);
    try {
      String dev = ubdDevice(d.index());
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
      unplug(d);
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
    Disk d = plug(hostPath, AccessMode.READ_WRITE);
    try {
      String conf = tempDir() + "/.mke2fs.conf";
      run("printf " + q(fmt.toString()) + " > " + conf + " && MKE2FS_CONFIG=" + conf + " /sbin/mke2fs " + args
          + ubdDevice(d.index()) + " " + blocks + "; rc=$?; rm -f " + conf + "; [ $rc = 0 ] && sync; exit $rc");
    } catch (IOException e) {
      throw new IOException("format " + hostPath + " with mke2fs in service VM " + id + ": " + e.getMessage(), e);
    } finally {
      unplug(d);
    }
  }

  @Override
  public String attach(Path hostPath, PayloadRange range, AccessMode mode, String shortName) throws IOException {
    if (!shortName.matches("[A-Za-z0-9_.-]+")) {
      throw new IllegalArgumentException("short name " + shortName + " is not a plain file name");
    }
    String mp = "/tmp/" + shortName;
    if (disks.containsKey(mp) || viaHostfs.containsKey(mp)) {
      throw new IOException("attach " + hostPath + ": " + mp + " is already in use in service VM " + id);
    }
    if (!hasFreeSlot()) {
      return attachViaHostfs(hostPath, range, mode, mp);
    }
    Disk d = plug(hostPath, mode);
    boolean ro = mode == AccessMode.READ_ONLY;
    String dev = ubdDevice(d.index());
    String opts = ro ? "-o ro,noload " : "";
    String c;
    if (range.offset() == 0) {
      c = "mkdir -p " + mp + " && mount -t ext4 " + opts + dev + " " + mp;
    } else {
      c = "l=$(losetup -f) && losetup " + (ro ? "-r " : "") + "-o " + range.offset() + " $l " + dev
          + " && { mkdir -p " + mp + " && mount -t ext4 " + opts + "$l " + mp + " || { losetup -d $l; exit 1; }; }"
          + " && echo $l";
    }
    String out;
    try {
      out = run(c);
    } catch (IOException e) {
      try {
        unplug(d);
      } catch (IOException ue) {
        e.addSuppressed(ue);
      }
      throw new IOException("attach " + hostPath + " (" + mode + ", payload " + range.offset() + "+" + range.length()
          + ") at " + mp + " in service VM " + id + ": " + e.getMessage(), e);
    }
    disks.put(mp, new Disk(d.index(), range.offset() == 0 ? null : out.strip(), d.link()));
    return mp;
  }

  @Override
  public void detach(String guestPath) throws IOException {
    HostfsDisk h = viaHostfs.get(guestPath);
    if (h != null) {
      detachViaHostfs(guestPath, h);
      return;
    }
    Disk d = disks.get(guestPath);
    if (d == null) {
      throw new IOException("detach " + guestPath + ": nothing attached there in service VM " + id);
    }
    run("umount " + q(guestPath) + (d.loopDevice() == null ? "" : " && losetup -d " + d.loopDevice())
        + " && rmdir " + q(guestPath));
    disks.remove(guestPath);
    unplug(d);
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
    if (terminated) {
      return;
    }
    terminated = true;
    disks.clear();
    unions.clear();
    viaHostfs.clear();
    try {
      cleanUp(process, agent, runDir);
    } finally {
      try {
        jail.close();
      } finally {
        deleteScratch(scratch); // the process group is gone (or failed to go): the file is no longer written
      }
    }
  }

  /** {@link GuestJail#expose}; when it fails because the guest is gone, the error says so (with its death note). */
  private void expose(Path hostPath, Path target, AccessMode mode) throws IOException {
    try {
      jail.expose(hostPath, target, mode);
    } catch (IOException e) {
      if (!alive()) {
        throw new IOException("service VM " + id + " is not running: " + deathNote(process, runDir.resolve("console.log"))
            + " (while exposing " + hostPath + ")", e);
      }
      throw e;
    }
  }

  private Disk plug(Path hostPath, AccessMode mode) throws IOException {
    int idx = freeIndex();
    Path link = runDir.resolve("disks").resolve(Integer.toString(idx));
    expose(hostPath, link, mode);
    String r;
    try {
      r = mconsole("config", "ubd" + idx + (mode == AccessMode.READ_ONLY ? "r" : "") + "=" + link);
    } catch (IOException | RuntimeException e) {
      try {
        jail.withdraw(link);
      } catch (IOException we) {
        e.addSuppressed(we);
      }
      throw e;
    }
    if (!r.startsWith("OK")) {
      jail.withdraw(link);
      throw new IOException("service VM " + id + ": hot-plug of " + hostPath + " as ubd" + idx + " failed: " + r);
    }
    Disk d = new Disk(idx, null, link);
    disks.put("#plug" + idx, d);
    return d;
  }

  private void unplug(Disk d) throws IOException {
    disks.remove("#plug" + d.index());
    String r = mconsole("remove", "ubd" + d.index());
    jail.withdraw(d.link());
    if (!r.startsWith("OK")) {
      throw new IOException("service VM " + id + ": removing ubd" + d.index() + " failed: " + r);
    }
  }

  /** Whether a ubd slot is free (else {@link #attach} goes through hostfs and a guest loop device). */
  private boolean hasFreeSlot() {
    try {
      freeIndex();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Attaches beyond UML's 16 ubd devices (utility-vms.md U7): the image is exposed as a new file in the VM's
   * confined hostfs directory (bind mount + ACL, {@link GuestJail#expose}), the guest mounts that directory once at
   * {@code /tmp/.hostfs} and puts a loop device (read-only for layers, at the payload offset) over the file.
   */
  private String attachViaHostfs(Path hostPath, PayloadRange range, AccessMode mode, String mp) throws IOException {
    Path file = runDir.resolve("hostfs").resolve("h" + (++hostfsCounter));
    expose(hostPath, file, mode);
    boolean ro = mode == AccessMode.READ_ONLY;
    String c = (hostfsMounted ? "" : "{ mountpoint -q /tmp/.hostfs || { mkdir -p /tmp/.hostfs && mount -t hostfs none"
        + " /tmp/.hostfs; }; } && ")
        + "l=$(losetup -f) && losetup " + (ro ? "-r " : "") + (range.offset() == 0 ? "" : "-o " + range.offset() + " ")
        + "$l /tmp/.hostfs/" + file.getFileName() + " && { mkdir -p " + mp + " && mount -t ext4 "
        + (ro ? "-o ro,noload " : "") + "$l " + mp + " || { losetup -d $l; exit 1; }; } && echo $l";
    String out;
    try {
      out = run(c);
    } catch (IOException e) {
      try {
        jail.withdraw(file);
      } catch (IOException we) {
        e.addSuppressed(we);
      }
      throw new IOException("attach " + hostPath + " (" + mode + ", payload " + range.offset() + "+" + range.length()
          + ") at " + mp + " through hostfs in service VM " + id + ": " + e.getMessage(), e);
    }
    hostfsMounted = true;
    viaHostfs.put(mp, new HostfsDisk(file, out.strip()));
    return mp;
  }

  private void detachViaHostfs(String guestPath, HostfsDisk h) throws IOException {
    run("umount " + q(guestPath) + " && losetup -d " + h.loopDevice() + " && rmdir " + q(guestPath));
    viaHostfs.remove(guestPath);
    jail.withdraw(h.file());
  }

  /** The uid the guest runs as on the host (also its gid). */
  public int hostUid() {
    return jail.uid();
  }

  /** The host files attached to this guest now (each reachable to {@link #hostUid()} through an ACL entry). */
  public java.util.Set<Path> exposedFiles() {
    return jail.exposedFiles();
  }

  private int freeIndex() throws IOException {
    boolean[] used = new boolean[MAX_DISKS + 1];
    for (Disk d : disks.values()) {
      used[d.index()] = true;
    }
    for (int i = 1; i <= MAX_DISKS; i++) {
      if (!used[i]) {
        return i;
      }
    }
    throw new IOException("service VM " + id + ": all " + MAX_DISKS + " disk slots are in use (UML allows 16 ubd"
        + " devices)");
  }

  private static String ubdDevice(int index) {
    return "/dev/ubd" + (char) ('a' + index);
  }

  private String mconsole(String... args) throws IOException {
    if (!alive()) {
      throw new IOException("service VM " + id + " is not running: " + deathNote(process, runDir.resolve("console.log")));
    }
    List<String> cmd = new ArrayList<>(List.of("uml_mconsole", mconsole.toString()));
    cmd.addAll(List.of(args));
    // uml_mconsole first looks for the name under ~/.uml and prints warnings; the reply is its last line.
    String out;
    try {
      out = exec(cmd, "mconsole " + String.join(" ", args) + " in service VM " + id, process).strip();
    } catch (GuestGone e) {
      throw new IOException("service VM " + id + " is not running: " + deathNote(process, runDir.resolve("console.log")), e);
    } catch (IOException e) {
      // uml_mconsole failed (e.g. "Connection refused" from a guest being killed): if the guest is dying, say that,
      // not the symptom (its exit may trail the closed socket by a few milliseconds).
      if (exitsWithin(process, 500)) {
        throw new IOException("service VM " + id + " is not running: " + deathNote(process, runDir.resolve("console.log")), e);
      }
      throw e;
    }
    int nl = out.lastIndexOf('\n');
    return nl < 0 ? out : out.substring(nl + 1);
  }

  private static boolean exitsWithin(Process p, long millis) {
    try {
      return p.waitFor(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !p.isAlive();
    }
  }

  private static String exec(List<String> cmd, String what) throws IOException {
    return exec(cmd, what, null);
  }

  /** The guest died while a host helper talked to it (uml_mconsole waits forever for a dead guest's reply). */
  private static final class GuestGone extends IOException {
    GuestGone(String message) {
      super(message);
    }
  }

  /** Runs a short host command; gives up at once when {@code guest} (if not null) exits meanwhile. */
  private static String exec(List<String> cmd, String what, Process guest) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
        new File("/dev/null"))).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!p.waitFor(20, TimeUnit.MILLISECONDS)) {
        if (guest != null && !guest.isAlive()) {
          p.destroyForcibly();
          throw new GuestGone(what + ": the UML process exited");
        }
        if (System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new IOException(what + ": " + cmd.get(0) + " did not finish in 30 s");
        }
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(what + ": interrupted", e);
    }
    byte[] out = p.getInputStream().readAllBytes(); // short output, already in the pipe
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(what + ": " + String.join(" ", cmd) + " failed with status " + p.exitValue() + ": " + text.strip());
    }
    return text;
  }

  private static String deathNote(Process p, Path console) {
    StringBuilder s = new StringBuilder();
    if (p == null) {
      s.append("the UML process was not started");
    } else if (p.isAlive()) {
      s.append("UML process ").append(p.pid()).append(" is running but its guest agent stopped answering");
    } else {
      s.append("UML process ").append(p.pid()).append(" exited with status ").append(p.exitValue());
    }
    try {
      String log = Files.readString(console, StandardCharsets.UTF_8).strip();
      if (!log.isEmpty()) {
        s.append("; console: ").append(log.length() > 400 ? "..." + log.substring(log.length() - 400) : log);
      }
    } catch (IOException e) {
      // no console log yet
    }
    return s.toString();
  }

  /** Kills the process group of {@code p}, waits until none of its processes is left, closes and deletes. */
  private static void cleanUp(Process p, GuestAgent agent, Path runDir) throws IOException {
    IOException failure = null;
    if (p != null) {
      long pid = p.pid();
      ProcessGroups.kill(pid);
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!ProcessGroups.members(pid).isEmpty()) {
        if (System.nanoTime() > deadline) {
          failure = new IOException("UML process group " + pid + " still has processes " + ProcessGroups.members(pid)
              + " 5 s after SIGKILL");
          break;
        }
        ProcessGroups.kill(pid);
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    if (agent != null) {
      try {
        agent.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    try {
      io.lcowgd.io.FileTrees.deleteTree(runDir);
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Single-quotes {@code s} for the guest shell. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
