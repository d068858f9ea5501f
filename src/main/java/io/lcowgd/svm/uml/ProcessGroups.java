package io.lcowgd.svm.uml;

import com.sun.jna.LastErrorException;
import io.lcowgd.posix.LibC;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Lists host processes by process group, from {@code /proc/<pid>/stat}, and kills a group. */
final class ProcessGroups {
  private ProcessGroups() {}

  /** The process group of {@code pid}, or -1 if it is gone. */
  static long groupOf(long pid) {
    String[] f = stat(Path.of("/proc", Long.toString(pid)));
    return f == null ? -1 : Long.parseLong(f[2]);
  }

  /** Whether process {@code pid} exists and is not a zombie (an exited process its parent has not reaped). */
  static boolean isRunning(long pid) {
    String[] f = stat(Path.of("/proc", Long.toString(pid)));
    return f != null && !f[0].equals("Z");
  }

  /** The pids whose process group is {@code pgid} (zombies excluded). */
  static List<Long> members(long pgid) {
    List<Long> out = new ArrayList<>();
    try (var s = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
      for (Path p : s) {
        String[] f = stat(p);
        if (f != null && f.length > 2 && Long.parseLong(f[2]) == pgid && !f[0].equals("Z")) {
          out.add(Long.parseLong(p.getFileName().toString()));
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("list /proc", e);
    }
    return out;
  }

  /**
   * Sends SIGKILL to group {@code pgid} every 10 ms until it has no members or {@code timeout} has passed; returns the
   * members left (empty once the group is gone).
   */
  static List<Long> killAndWait(long pgid, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!members(pgid).isEmpty()) {
      if (System.nanoTime() > deadline) {
        return members(pgid);
      }
      kill(pgid);
      Thread.sleep(10);
    }
    return List.of();
  }

  /** The fields of {@code <proc>/stat} after the command name (the state first), or null if the process is gone. */
  private static String[] stat(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Sends SIGKILL to every process of group {@code pgid} (kill(2) of {@code -pgid}); a group that is already gone
   * (ESRCH) is no error: the callers' scan of {@link #members} decides whether the group is gone.
   *
   * @throws IllegalArgumentException if {@code pgid} is not a process group id above 1 (kill(2) of -1 would signal
   *     every process)
   * @throws java.io.UncheckedIOException if kill(2) fails otherwise (e.g. EPERM), naming the group and errno
   */
  static void kill(long pgid) {
    if (pgid <= 1 || pgid > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("not a process group to kill: " + pgid);
    }
    try {
      LibC.INSTANCE.kill(-(int) pgid, LibC.SIGKILL);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != LibC.ESRCH) {
        throw new java.io.UncheckedIOException(new IOException("SIGKILL to process group " + pgid + ": "
            + LibC.INSTANCE.strerror(e.getErrorCode()) + " (errno " + e.getErrorCode() + ")", e));
      }
    }
  }
}
