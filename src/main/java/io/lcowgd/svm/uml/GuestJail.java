package io.lcowgd.svm.uml;

import io.lcowgd.io.Failures;
import io.lcowgd.io.HostCommand;
import io.lcowgd.svm.AccessMode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The host-side confinement of one UML guest: a uid (and gid) of its own from a {@link UidRange}, held by a lock
 * file under {@value #LOCK_DIR_NAME} for the guest's life; a private mount namespace whose root is a minimal tree
 * ({@code /usr}, a few {@code /dev} nodes, {@code /dev/shm}, {@code /proc}, its run directory: no data root); and
 * per attach exactly one host file made reachable to that uid: the file is bind-mounted onto an empty file in the
 * guest's run directory inside the guest's namespace, and a POSIX ACL entry for the uid ({@code r} or {@code rw}) is
 * put on the file. {@link #withdraw} and {@link #close} undo both. Layer files keep their contents and modes. See
 * docs/uml.md, "Isolation".
 */
final class GuestJail implements AutoCloseable {
  static final String LOCK_DIR_NAME = "/run/lcow-uml-uids";
  private static final Path LOCK_DIR = Path.of(LOCK_DIR_NAME);

  private final int uid;
  private final Path runDir;
  private final FileChannel lockFile;
  private final FileLock lock;
  private final Map<Path, Path> exposed = new LinkedHashMap<>();
  private long pid = -1;
  private boolean closed;

  private GuestJail(int uid, Path runDir, FileChannel lockFile, FileLock lock) {
    this.uid = uid;
    this.runDir = runDir;
    this.lockFile = lockFile;
    this.lock = lock;
  }

  /**
   * Takes a free uid of {@code range} (not locked by another guest, no process running as it) and prepares
   * {@code runDir} (which must exist): mode 0711, a {@code uml} directory owned by the uid. The host directories
   * above it need not be searchable by the uid: the guest sees the run directory in its own root tree.
   */
  static GuestJail open(UidRange range, Path runDir) throws IOException {
    if (((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) != 0) {
      throw new IOException("UML guests run under a dedicated uid, which needs the plugin to run as root");
    }
    Files.createDirectories(LOCK_DIR, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    // Lowest free uid first: the lock files (never deleted: unlinking a lock file races with its next user) stay
    // as many as guests ever ran at once. A uid is reused only after every process of its last guest is gone.
    Set<Integer> running = runningUids();
    for (int i = 0; i < range.count(); i++) {
      int u = range.first() + i;
      if (running.contains(u)) {
        continue;
      }
      FileChannel ch = FileChannel.open(LOCK_DIR.resolve(Integer.toString(u)), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null; // held by another guest of this JVM
      }
      if (l == null) {
        ch.close();
        continue;
      }
      GuestJail j = new GuestJail(u, runDir, ch, l);
      try {
        j.layout();
      } catch (IOException | RuntimeException e) {
        j.close();
        throw e;
      }
      return j;
    }
    throw new IOException("no free guest uid in " + range + " (every uid is locked under " + LOCK_DIR
        + " or has processes)");
  }

  private void layout() throws IOException {
    Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwx--x--x"));
    Path uml = umlDir();
    Files.createDirectory(uml, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.setAttribute(uml, "unix:uid", uid);
    Files.setAttribute(uml, "unix:gid", uid);
  }

  /** The guest's uid (also its gid). */
  int uid() {
    return uid;
  }

  /** The guest's {@code uml_dir} (owned by the guest uid: UML writes its pid file and mconsole socket there). */
  Path umlDir() {
    return runDir.resolve("uml");
  }

  /** Where the host's root stays reachable, for root only, inside the guest's namespace (see {@link #wrap}). */
  static final String HOST = "/.h/host";

  /**
   * The command that runs {@code uml} (kernel executable first) confined: {@code unshare -m} (private mount
   * namespace); a root shell in it mounts the entries of {@code LCOW_FSTAB} (the guest's root tree, prepared by
   * {@link #environment}) and {@code pivot_root}s into it, the host's root moving to {@value #HOST} under a 0700
   * directory; it lazily detaches the mounts of {@code LCOW_DETACH} there, then {@code setpriv} to the guest
   * uid/gid, no supplementary groups, {@code no_new_privs}, empty bounding and inheritable capability sets. If any
   * step before fails, the guest is not started.
   */
  List<String> wrap(List<String> uml) {
    List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
        "mount -a -T \"$LCOW_FSTAB\" && cd \"$LCOW_ROOT\" && pivot_root . .h/host && cd / || exit 125;"
            + " set -f; IFS='\n'; [ -z \"$LCOW_DETACH\" ] || umount -l -- $LCOW_DETACH 2>/dev/null;"
            + " unset LCOW_DETACH LCOW_FSTAB LCOW_ROOT; exec \"$@\"", "lcow-uml-jail",
        "setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--no-new-privs", "--bounding-set=-all",
        "--inh-caps=-all", "--"));
    cmd.addAll(uml);
    return cmd;
  }

  /**
   * Environment for {@link #wrap}: {@code LCOW_DETACH} lists (one per line) the topmost host mounts that are loop
   * devices, overlays or namespace files ({@code nsfs}), so the guest's namespace does not pin them (a copied mount
   * keeps a loop device, an overlay's layers or a network namespace alive after its owner unmounted it). Other
   * mounts stay: an attached image may live on any of them (e.g. a data root on its own disk), and the bind mounts
   * of {@link #expose} resolve their source in the guest's namespace. Mounts on the way to {@code needed} and the
   * system directories always stay.
   */
  Map<String, String> environment(List<Path> needed) throws IOException {
    Map<String, String> env = new HashMap<>(prepareRoot(needed));
    List<String> keep = new ArrayList<>();
    for (Path p : needed) {
      keep.add(p.toAbsolutePath().normalize().toString());
    }
    keep.addAll(List.of("/dev/shm", "/dev/null", "/dev/urandom", "/dev/random", "/proc/self", "/usr", "/lib",
        "/lib64", "/bin", "/etc"));
    List<String> detach = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
      String[] f = line.split(" ");
      if (f.length < 5) {
        continue;
      }
      String mp = unescape(f[4]);
      int dash = line.indexOf(" - ");
      String[] tail = dash < 0 ? new String[0] : line.substring(dash + 3).split(" ");
      String fstype = tail.length > 0 ? tail[0] : "";
      String source = tail.length > 1 ? unescape(tail[1]) : "";
      boolean pins = fstype.equals("overlay") || fstype.equals("nsfs") || source.startsWith("/dev/loop");
      if (!pins || mp.indexOf('\n') >= 0 || keep.stream().anyMatch(k -> under(k, mp))) {
        continue;
      }
      if (detach.stream().noneMatch(d -> under(mp, d)) && !detach.contains(mp)) {
        detach.removeIf(d -> under(d, mp));
        detach.add(mp);
      }
    }
    env.put("LCOW_DETACH", String.join("\n", detach.stream().map(d -> HOST + d).toList()));
    return env;
  }

  /**
   * Builds the guest's root tree {@code <run dir>/.root} on the host (root-owned; directories, the merged-/usr
   * symlinks, empty files as mount points) and an fstab that bind-mounts into it: the tree onto itself (pivot_root
   * needs a mount), {@code /usr} (and {@code /lib*}, {@code /bin}, {@code /sbin} where they are directories)
   * read-only, {@code /dev/null}, {@code zero}, {@code random}, {@code urandom}, {@code /dev/shm} (guest RAM),
   * {@code /proc}, the run directory at its own path, and every other file of {@code needed} not under {@code /usr}
   * (the kernel) read-only. Nothing else of the host, in particular no data root, is in the tree.
   */
  private Map<String, String> prepareRoot(List<Path> needed) throws IOException {
    Path root = runDir.resolve(".root");
    Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    StringBuilder fstab = new StringBuilder();
    bind(fstab, root, root, "bind");
    for (String d : List.of("usr", "dev", "dev/shm", "proc")) {
      Files.createDirectories(root.resolve(d));
    }
    Path h = Files.createDirectory(root.resolve(".h"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Files.createDirectory(h.resolve("host"));
    bind(fstab, Path.of("/usr"), root.resolve("usr"), "bind,ro");
    for (String d : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
      Path host = Path.of("/", d);
      if (Files.isSymbolicLink(host)) {
        Files.createSymbolicLink(root.resolve(d), Files.readSymbolicLink(host));
      } else if (Files.isDirectory(host)) {
        bind(fstab, host, Files.createDirectory(root.resolve(d)), "bind,ro");
      }
    }
    for (String n : List.of("null", "zero", "random", "urandom")) {
      bind(fstab, Path.of("/dev", n), Files.createFile(root.resolve("dev").resolve(n)), "bind");
    }
    bind(fstab, Path.of("/dev/shm"), root.resolve("dev/shm"), "bind");
    bind(fstab, Path.of("/proc"), root.resolve("proc"), "bind");
    Path abs = runDir.toAbsolutePath().normalize();
    bind(fstab, abs, directories(root, abs), "bind");
    for (Path p : needed) {
      Path real = p.toAbsolutePath().normalize();
      if (Files.isRegularFile(real) && !real.startsWith("/usr")) {
        Path in = directories(root, real.getParent()).resolve(real.getFileName());
        bind(fstab, real, Files.createFile(in), "bind,ro");
      }
    }
    Path file = runDir.resolve(".fstab");
    Files.writeString(file, fstab.toString(), StandardCharsets.UTF_8);
    return Map.of("LCOW_FSTAB", file.toString(), "LCOW_ROOT", root.toString());
  }

  /** Creates {@code root/<path>} with every missing directory 0755 (whatever the umask); returns it. */
  private static Path directories(Path root, Path path) throws IOException {
    Path at = root;
    for (Path name : path) {
      at = at.resolve(name.toString());
      if (!Files.isDirectory(at)) {
        Files.createDirectory(at);
        Files.setPosixFilePermissions(at, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    return at;
  }

  private static void bind(StringBuilder fstab, Path source, Path target, String options) {
    fstab.append(fstabPath(source)).append(' ').append(fstabPath(target)).append(" none ").append(options)
        .append(" 0 0\n");
  }

  /** A path in fstab syntax: space, tab, newline and backslash as octal escapes. */
  private static String fstabPath(Path p) {
    StringBuilder b = new StringBuilder();
    for (char c : p.toString().toCharArray()) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
        b.append(String.format("\\%03o", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Whether {@code path} is {@code dir} or lies below it. */
  private static boolean under(String path, String dir) {
    return path.equals(dir) || dir.equals("/") || path.startsWith(dir + "/");
  }

  private static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /** Records the pid of the started guest (its mount namespace is where {@link #expose} mounts). */
  synchronized void started(long pid) {
    this.pid = pid;
  }

  /**
   * Makes host file {@code source} reachable to the guest uid at {@code target} (a new name in the run directory):
   * an ACL entry {@code user:<uid>:r} ({@code rw} for {@link AccessMode#READ_WRITE}) on the file, and a bind mount
   * of it onto {@code target} in the guest's mount namespace (read-only for read-only access).
   */
  synchronized void expose(Path source, Path target, AccessMode mode) throws IOException {
    if (pid < 0) {
      throw new IllegalStateException("guest not started");
    }
    Path real = source.toRealPath();
    if (!Files.isRegularFile(real)) {
      throw new IOException("attach " + source + ": not a regular file");
    }
    Files.deleteIfExists(target);
    Files.createFile(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    boolean ro = mode == AccessMode.READ_ONLY;
    try {
      int perm = ro ? PosixAcl.READ : PosixAcl.READ | PosixAcl.WRITE;
      try {
        PosixAcl.grant(real, uid, perm);
      } catch (PosixAcl.UnsupportedException e) {
        // No ACLs on this file system: fine if the file's "other" bits already allow it (e.g. a 0644 layer).
        if ((((Integer) Files.getAttribute(real, "unix:mode")) & perm) != perm) {
          throw new IOException("attach " + source + " to the guest uid " + uid + ": " + e.getMessage()
              + " and its mode does not allow " + (ro ? "reading" : "writing") + " by others", e);
        }
      }
      exposed.put(target, real);
      inNamespace(List.of("mount", "--bind", "-o", ro ? "ro" : "rw", "--", HOST + real, target.toString()),
          "bind " + real + " to " + target);
    } catch (IOException | RuntimeException e) {
      Failures.undo(e, () -> withdraw(target));
      throw e;
    }
  }

  /** Undoes {@link #expose} of {@code target}: unmounts it in the guest's namespace, drops the ACL entry, deletes it. */
  synchronized void withdraw(Path target) throws IOException {
    Path real = exposed.remove(target);
    IOException failure = null;
    if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      try {
        inNamespace(List.of("sh", "-c", "! mountpoint -q \"$1\" || umount \"$1\" || umount -l \"$1\"", "sh",
            target.toString()), "unmount " + target);
      } catch (IOException e) {
        failure = e;
      }
    }
    if (real != null && !exposed.containsValue(real)) {
      try {
        PosixAcl.revoke(real, uid);
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    Files.deleteIfExists(target);
    if (failure != null) {
      throw failure;
    }
  }

  /** The host files currently exposed to the guest. */
  synchronized Set<Path> exposedFiles() {
    return new HashSet<>(exposed.values());
  }

  private void inNamespace(List<String> command, String what) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("nsenter", "--target", Long.toString(pid), "--mount", "--"));
    cmd.addAll(command);
    HostCommand.of(cmd, what + " in the mount namespace of UML process " + pid).run();
  }

  /**
   * Drops every ACL entry still granted and frees the uid. Call once the guest's processes are gone (its mount
   * namespace and the bind mounts in it went with them).
   */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    IOException failure = null;
    for (Path real : new HashSet<>(exposed.values())) {
      try {
        PosixAcl.revoke(real, uid);
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    for (Path t : exposed.keySet()) {
      Files.deleteIfExists(t);
    }
    exposed.clear();
    try {
      lock.release();
      lockFile.close();
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Real uids of the processes running now (a stale guest of a crashed daemon still runs as its uid). */
  private static Set<Integer> runningUids() {
    Set<Integer> out = new HashSet<>();
    try (var s = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : s) {
        try {
          for (String l : Files.readAllLines(p.resolve("status"))) {
            if (l.startsWith("Uid:")) {
              out.add(Integer.parseUnsignedInt(l.substring(4).strip().split("\\s+")[0]));
              break;
            }
          }
        } catch (IOException | RuntimeException e) {
          // exited meanwhile
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("list /proc", e);
    }
    return out;
  }
}
