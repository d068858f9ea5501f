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

  /** Single-quotes {@code s} for the guest shell. */
  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
