package io.lcowgd.svm.uml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the UML guests a dead plugin left under one run base: every {@code linux.uml} process whose umid is {@code
 * lcow-<pid>-<n>} with {@code uml_dir} at or below {@code <runBase>/<umid>} and whose owner {@code <pid>} is gone
 * (or a zombie) has its process group
 * killed; every run directory {@code <runBase>/lcow-<pid>-<n>} of a gone owner is deleted together with the scratch
 * disk its {@code scratch} symlink names. Guests of a live owner are never touched.
 *
 * <p>An owner counts as gone when no process has its pid, or when the process holding that pid started after the
 * guest (or the run directory) did, i.e. the pid was reused.
 */
public final class StaleGuests {
  private static final Logger LOG = LoggerFactory.getLogger(StaleGuests.class);
  private static final Pattern UMID = Pattern.compile("lcow-(\\d+)-(\\d+)");

  /**
   * What one clean-up removed.
   *
   * @param killed umids whose guest processes were killed
   * @param runDirs run directories deleted
   * @param scratchFiles scratch disks deleted
   */
  public record Report(List<String> killed, List<Path> runDirs, List<Path> scratchFiles) {
    public Report {
      killed = List.copyOf(killed);
      runDirs = List.copyOf(runDirs);
      scratchFiles = List.copyOf(scratchFiles);
    }

    /** Whether nothing was found. */
    public boolean isEmpty() {
      return killed.isEmpty() && runDirs.isEmpty() && scratchFiles.isEmpty();
    }
  }

  private StaleGuests() {}

  /** Cleans {@code runBase} (absent is fine) as described above, logs what it removed and returns it. */
  public static Report clean(Path runBase) throws IOException {
    Path base = runBase.toAbsolutePath().normalize();
    List<String> killed = new ArrayList<>();
    List<Path> dirs = new ArrayList<>();
    List<Path> scratch = new ArrayList<>();
    Set<Long> groups = new LinkedHashSet<>();
    long ownGroup = ProcessGroups.groupOf(ProcessHandle.current().pid());
    for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
      Optional<Guest> g = guest(p, base);
      if (g.isEmpty() || ownerAlive(g.get().owner(), p.info().startInstant())) {
        continue;
      }
      long pgid = ProcessGroups.groupOf(p.pid());
      if (pgid > 1 && pgid != ownGroup && groups.add(pgid)) {
        killed.add(g.get().umid());
        LOG.info("killing stale UML guest {} (process group {}): its plugin process {} is gone", g.get().umid(),
            pgid, g.get().owner());
      }
    }
    for (long pgid : groups) {
      killGroupAndWait(pgid);
    }
    if (Files.isDirectory(base)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(base)) {
        for (Path dir : ds) {
          Matcher m = UMID.matcher(dir.getFileName().toString());
          if (!m.matches() || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            continue;
          }
          Instant made = Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toInstant();
          if (ownerAlive(Long.parseLong(m.group(1)), Optional.of(made))) {
            continue;
          }
          Path s = scratchOf(dir);
          if (s != null && Files.deleteIfExists(s)) {
            scratch.add(s);
            LOG.info("deleted the scratch disk {} of stale UML guest {}", s, dir.getFileName());
          }
          io.lcowgd.io.FileTrees.deleteTree(dir);
          dirs.add(dir);
          LOG.info("deleted the run directory {} of stale UML guest {}", dir, dir.getFileName());
        }
      }
    }
    return new Report(killed, dirs, scratch);
  }

  private record Guest(String umid, long owner) {}

  /** The stale-candidate guest {@code p} is, if it is a UML kernel of ours under {@code base}. */
  private static Optional<Guest> guest(ProcessHandle p, Path base) {
    byte[] raw;
    try {
      raw = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
    } catch (IOException e) {
      return Optional.empty(); // gone meanwhile, or not readable
    }
    String umid = null;
    String umlDir = null;
    for (String a : new String(raw, StandardCharsets.UTF_8).split("\0")) {
      if (a.startsWith("umid=")) {
        umid = a.substring(5);
      } else if (a.startsWith("uml_dir=")) {
        umlDir = a.substring(8);
      }
    }
    if (umid == null || umlDir == null) {
      return Optional.empty();
    }
    Matcher m = UMID.matcher(umid);
    // uml_dir is the run directory or a directory inside it.
    if (!m.matches() || !Path.of(umlDir).toAbsolutePath().normalize().startsWith(base.resolve(umid))) {
      return Optional.empty();
    }
    return Optional.of(new Guest(umid, Long.parseLong(m.group(1))));
  }

  /**
   * Whether process {@code pid} runs and started no later than {@code since} (when known): a process that started
   * later holds a reused pid and cannot own what was made at {@code since}.
   */
  static boolean ownerAlive(long pid, Optional<Instant> since) {
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty() || !h.get().isAlive() || !ProcessGroups.isRunning(pid)) {
      return false; // gone, or a zombie nobody reaped (this machine's pid 1 reaps none)
    }
    Optional<Instant> started = h.get().info().startInstant();
    if (started.isEmpty() || since.isEmpty()) {
      return true; // cannot tell: never touch what might be live
    }
    // /proc start times have clock-tick resolution; allow one second of slack in the owner's favour.
    return !started.get().isAfter(since.get().plusSeconds(1));
  }

  /** The scratch file a run directory's {@code scratch} symlink points to, if it looks like one ({@code scratch/*.vhdx}). */
  private static Path scratchOf(Path runDir) throws IOException {
    Path link = runDir.resolve(UmlVm.SCRATCH_RECORD);
    if (!Files.isSymbolicLink(link)) {
      return null;
    }
    Path target = Files.readSymbolicLink(link);
    Path parent = target.getParent();
    if (!target.isAbsolute() || parent == null || parent.getFileName() == null
        || !parent.getFileName().toString().equals("scratch") || !target.getFileName().toString().endsWith(".vhdx")) {
      return null;
    }
    try {
      return Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) ? target : null;
    } catch (SecurityException e) {
      return null;
    }
  }

  private static void killGroupAndWait(long pgid) throws IOException {
    List<Long> left;
    try {
      left = ProcessGroups.killAndWait(pgid, Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while killing stale UML process group " + pgid, e);
    }
    if (!left.isEmpty()) {
      throw new IOException("stale UML process group " + pgid + " still has processes " + left + " 5 s after SIGKILL");
    }
  }
}
