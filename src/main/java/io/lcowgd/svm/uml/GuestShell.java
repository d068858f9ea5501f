package io.lcowgd.svm.uml;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;

/**
 * Runs shell commands ({@code sh -c}) in one guest through its {@link GuestAgent}, each bounded by the VM's
 * operation timeout; a command that exits non-zero fails naming the VM, the command, its status and its stderr.
 */
final class GuestShell {
  private final String id;
  private final GuestAgent agent;
  private final Duration timeout;

  GuestShell(String id, GuestAgent agent, Duration timeout) {
    this.id = id;
    this.agent = agent;
    this.timeout = timeout;
  }

  /** Runs {@code command} and returns its status and output, whatever the status. */
  GuestAgent.Result result(String command) throws IOException {
    return agent.run(command, timeout);
  }

  /** Runs {@code command}; returns its stdout, or fails with its status and stderr. */
  String run(String command) throws IOException {
    GuestAgent.Result r = agent.run(command, timeout);
    if (r.status() != 0) {
      throw new IOException("service VM " + id + ": '" + GuestAgent.abbrev(command) + "' failed with status "
          + r.status() + ": " + r.stderrText());
    }
    return r.stdoutText();
  }

  /**
   * Runs {@code command} and streams its stdout to {@code sink} as it is produced (guest to host over the data line,
   * bounded chunks); returns the byte count, or fails with the command's status and stderr.
   */
  long stream(String command, OutputStream sink) throws IOException {
    GuestAgent.Result r = agent.stream(command, sink, timeout);
    if (r.status() != 0) {
      throw new IOException("service VM " + id + ": '" + GuestAgent.abbrev(command) + "' failed with status "
          + r.status() + " after " + r.streamed() + " bytes: " + r.stderrText());
    }
    return r.streamed();
  }

  /**
   * The command that binds a free guest loop device to {@code source} at byte {@code offset} (read-only if {@code ro}),
   * mounts its ext4 at {@code mp} ({@code ro,noload} if {@code ro}), frees the loop device again if the mount fails,
   * and prints the loop device.
   */
  static String loopMount(String source, long offset, boolean ro, String mp) {
    return "l=$(losetup -f) && losetup " + (ro ? "-r " : "") + (offset == 0 ? "" : "-o " + offset + " ") + "$l "
        + source + " && { mkdir -p " + mp + " && mount -t ext4 " + (ro ? "-o ro,noload " : "") + "$l " + mp
        + " || { losetup -d $l; exit 1; }; } && echo $l";
  }

  /** The command that unmounts {@code guestPath}, frees its {@code loopDevice} (if not null), removes the directory. */
  static String unmount(String guestPath, String loopDevice) {
    return "umount " + q(guestPath) + (loopDevice == null ? "" : " && losetup -d " + loopDevice) + " && rmdir "
        + q(guestPath);
  }

  /** Single-quotes {@code s} for the guest shell. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
