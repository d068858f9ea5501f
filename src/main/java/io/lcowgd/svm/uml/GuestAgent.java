package io.lcowgd.svm.uml;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The host side of the guest agent's protocol (see {@code scripts/build-uvm}): one request at a time, each a single
 * line under {@value #MAX_REQUEST} bytes (the UML tty input stall, utility-vms.md U1), answered on the control line
 * with {@code R <rc> <n1> <n2>\n}; streamed output arrives on a separate data line and is copied to the caller's
 * sink in bounded chunks, never buffered whole; its end is a random marker the host appends (see {@link #stream}).
 *
 * <p>The three channels are host FIFOs the UML process was given as {@code ssl1=fd:3,fd:4 ssl2=null,fd:5}; the host
 * opens them read-write so neither side blocks in {@code open}. A reader thread per channel feeds bounded queues,
 * so a guest that dies is noticed ({@code exited}) instead of blocking a reader forever.
 */
final class GuestAgent implements AutoCloseable {
  /** Upper bound of one request line, below the 4096-byte N_TTY buffer minus its 128-byte throttle margin. */
  static final int MAX_REQUEST = 3800;

  private static final byte[] EOF = new byte[0];
  private static final int CHUNK = 64 * 1024;
  private static final int MARKER = 32;
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** A finished command: exit status, stdout (or the streamed byte count in {@code streamed}) and stderr. */
  record Result(int status, byte[] stdout, long streamed, byte[] stderr) {
    String stdoutText() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    String stderrText() {
      return new String(stderr, StandardCharsets.UTF_8).strip();
    }
  }

  private final String name;
  private final FileChannel toGuest;
  private final FileChannel control;
  private final FileChannel data;
  private final FileChannel dataWriter;
  private final BlockingQueue<byte[]> controlChunks = new ArrayBlockingQueue<>(64);
  private final BlockingQueue<byte[]> dataChunks = new ArrayBlockingQueue<>(16);
  private final java.util.concurrent.locks.ReentrantLock requests = new java.util.concurrent.locks.ReentrantLock();
  private final Supplier<String> deathNote;
  private byte[] pending = new byte[0];
  private int pendingPos;
  private volatile boolean closed;
  /**
   * Set when a request timed out or its stream was abandoned: the agent may still be inside it, so later replies
   * cannot be matched.
   */
  private volatile String outOfStep;

  /**
   * Opens the FIFOs {@code in} (host to guest), {@code out} (guest control) and {@code dataOut} (guest bulk);
   * {@code deathNote} describes why the guest is gone (exit status, console tail) when a channel ends.
   */
  GuestAgent(String name, Path in, Path out, Path dataOut, Supplier<String> deathNote) throws IOException {
    this.name = name;
    this.deathNote = deathNote;
    this.toGuest = FileChannel.open(in, StandardOpenOption.READ, StandardOpenOption.WRITE);
    this.control = FileChannel.open(out, StandardOpenOption.READ, StandardOpenOption.WRITE);
    this.data = FileChannel.open(dataOut, StandardOpenOption.READ, StandardOpenOption.WRITE);
    // A second descriptor: a FileChannel serialises read and write, and the reader thread blocks in read.
    this.dataWriter = FileChannel.open(dataOut, StandardOpenOption.WRITE);
    startReader(control, controlChunks, "ctl");
    startReader(data, dataChunks, "data");
  }

  private void startReader(FileChannel ch, BlockingQueue<byte[]> q, String what) {
    Thread t = new Thread(() -> {
      try {
        while (true) {
          ByteBuffer b = ByteBuffer.allocate(CHUNK);
          int n = ch.read(b);
          if (n < 0) {
            break;
          }
          byte[] chunk = new byte[n];
          b.flip().get(chunk);
          q.put(chunk);
        }
      } catch (IOException | InterruptedException e) {
        // channel closed by close() or the guest's end: signalled below
      }
      q.offer(EOF);
    }, "uml-agent-" + what + "-" + name);
    t.setDaemon(true);
    t.start();
  }

  /** Called when the UML process has exited: wakes every waiting reader. */
  void guestExited() {
    closed = true;
    controlChunks.offer(EOF);
    dataChunks.offer(EOF);
  }

  /** Waits up to {@code timeout} for the agent's hello line and returns it (e.g. {@code H 6.1.176}). */
  String awaitHello(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String line = readLine(deadline, "wait for the guest agent's hello");
    if (!line.startsWith("H ")) {
      throw new IOException("service VM " + name + ": unexpected first message from the guest agent: " + line);
    }
    return line;
  }

  /** Runs {@code command} through {@code sh -c} in the guest and returns its status and output. */
  Result run(String command, Duration timeout) throws IOException {
    lockRequests(command);
    try {
      return runLocked(command, timeout);
    } finally {
      requests.unlock();
    }
  }

  /**
   * The agent answers one request at a time: callers sharing a VM (global mode, or one layer's VM used by two
   * operations) take turns; a caller's timeout starts once it has the line.
   */
  private void lockRequests(String command) throws IOException {
    try {
      requests.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("service VM " + name + ": interrupted waiting to send '"
          + abbrev(command) + "'");
    }
  }

  private Result runLocked(String command, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    send('C', command);
    long[] r = readResult(deadline, command);
    byte[] out = readControlBytes((int) r[1], deadline, command);
    byte[] err = readControlBytes((int) r[2], deadline, command);
    return new Result((int) r[0], out, out.length, err);
  }

  /**
   * Runs {@code command} in the guest and copies its stdout, as it arrives, to {@code sink}. The guest drains its
   * data line before it answers on the control line, so once the answer is in, every byte of the stream is in the
   * data FIFO; the host then appends a random end marker of its own to that FIFO and copies up to the marker.
   * While no data arrives the sink is flushed every 50 ms. A sink that fails (write or flush) abandons the stream:
   * its failure is thrown as is and the agent is out of step (the guest command may still be running).
   */
  Result stream(String command, OutputStream sink, Duration timeout) throws IOException {
    lockRequests(command);
    try {
      return streamLocked(command, sink, timeout);
    } finally {
      requests.unlock();
    }
  }

  private Result streamLocked(String command, OutputStream sink, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    send('S', command);
    long copied = 0;
    long[] r = null;
    byte[] marker = null;
    byte[] hold = new byte[0];
    while (true) {
      if (r == null && (pendingPos < pending.length || !controlChunks.isEmpty())) {
        r = readResult(deadline, command);
        marker = new byte[MARKER];
        RANDOM.nextBytes(marker);
        ByteBuffer m = ByteBuffer.wrap(marker);
        while (m.hasRemaining()) {
          dataWriter.write(m);
        }
        continue;
      }
      byte[] chunk = poll(dataChunks, Math.min(50_000_000L, remaining(deadline, command)));
      if (chunk == EOF) {
        throw gone("stream '" + abbrev(command) + "'");
      }
      if (chunk == null) {
        toSink(command, sink::flush); // a sink whose reader is gone fails here even while the guest sends nothing
        continue;
      }
      byte[] buf = new byte[hold.length + chunk.length];
      System.arraycopy(hold, 0, buf, 0, hold.length);
      System.arraycopy(chunk, 0, buf, hold.length, chunk.length);
      if (marker != null) {
        int at = indexOf(buf, marker);
        if (at >= 0) {
          if (at + marker.length != buf.length) {
            throw new IOException("service VM " + name + ": data after the end of the stream of '" + abbrev(command) + "'");
          }
          toSink(command, () -> sink.write(buf, 0, at));
          copied += at;
          break;
        }
      }
      int keep = Math.min(buf.length, MARKER - 1);
      toSink(command, () -> sink.write(buf, 0, buf.length - keep));
      copied += buf.length - keep;
      hold = java.util.Arrays.copyOfRange(buf, buf.length - keep, buf.length);
    }
    byte[] err = readControlBytes((int) r[2], deadline, command);
    return new Result((int) r[0], new byte[0], copied, err);
  }

  /** A write or flush of a stream's sink. */
  @FunctionalInterface
  private interface SinkCall {
    void run() throws IOException;
  }

  /** Calls the sink; when it fails the stream is abandoned, so the agent is out of step, and the failure is thrown. */
  private void toSink(String command, SinkCall call) throws IOException {
    try {
      call.run();
    } catch (IOException | RuntimeException e) {
      outOfStep = "the stream of '" + abbrev(command) + "' was abandoned by its reader: " + e.getMessage();
      throw e;
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Whether a request timed out or a stream was abandoned, leaving the agent out of step (the VM must be replaced). */
  boolean outOfStep() {
    return outOfStep != null;
  }

  private void send(char kind, String command) throws IOException {
    String stuck = outOfStep;
    if (stuck != null) {
      throw new IOException("service VM " + name + ": the guest agent is out of step (" + stuck
          + "); the VM must be replaced");
    }
    if (command.indexOf('\n') >= 0 || command.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("guest command contains a line break: " + abbrev(command));
    }
    byte[] line = (kind + " " + command + "\n").getBytes(StandardCharsets.UTF_8);
    if (line.length > MAX_REQUEST) {
      throw new IOException("service VM " + name + ": guest command of " + line.length + " bytes exceeds the "
          + MAX_REQUEST + "-byte request limit of the UML tty: " + abbrev(command));
    }
    if (closed) {
      throw gone("send '" + abbrev(command) + "'");
    }
    ByteBuffer b = ByteBuffer.wrap(line);
    while (b.hasRemaining()) {
      toGuest.write(b);
    }
  }

  private long[] readResult(long deadline, String command) throws IOException {
    String line = readLine(deadline, "run '" + abbrev(command) + "'");
    String[] f = line.split(" ");
    if (f.length != 4 || !f[0].equals("R")) {
      throw new IOException("service VM " + name + ": malformed guest agent reply '" + line + "' to '" + abbrev(command) + "'");
    }
    try {
      return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
    } catch (NumberFormatException e) {
      throw new IOException("service VM " + name + ": malformed guest agent reply '" + line + "'", e);
    }
  }

  private String readLine(long deadline, String what) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int c = readControlByte(deadline, what);
      if (c == '\n') {
        return line.toString(StandardCharsets.UTF_8);
      }
      if (line.size() > 4096) {
        throw new IOException("service VM " + name + ": guest agent line too long while trying to " + what);
      }
      line.write(c);
    }
  }

  private int readControlByte(long deadline, String what) throws IOException {
    while (pendingPos >= pending.length) {
      byte[] chunk = poll(controlChunks, remaining(deadline, what));
      if (chunk == null) {
        continue;
      }
      if (chunk == EOF) {
        throw gone(what);
      }
      pending = chunk;
      pendingPos = 0;
    }
    return pending[pendingPos++] & 0xff;
  }

  private byte[] readControlBytes(int n, long deadline, String command) throws IOException {
    byte[] out = new byte[n];
    for (int i = 0; i < n; ) {
      if (pendingPos >= pending.length) {
        readControlByte(deadline, "read the output of '" + abbrev(command) + "'");
        pendingPos--;
      }
      int k = Math.min(n - i, pending.length - pendingPos);
      System.arraycopy(pending, pendingPos, out, i, k);
      pendingPos += k;
      i += k;
    }
    return out;
  }

  private long remaining(long deadline, String what) throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      outOfStep = "timed out trying to " + what;
      throw new io.lcowgd.svm.VmTimeoutException("service VM " + name + ": timed out trying to " + what);
    }
    return left;
  }

  private static byte[] poll(BlockingQueue<byte[]> q, long nanos) throws IOException {
    try {
      return q.poll(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the guest agent");
    }
  }

  private IOException gone(String what) {
    return new IOException("service VM " + name + " died while trying to " + what + ": " + deathNote.get());
  }

  static String abbrev(String command) {
    return command.length() <= 200 ? command : command.substring(0, 200) + "...";
  }

  @Override
  public void close() throws IOException {
    closed = true;
    IOException first = null;
    for (FileChannel ch : new FileChannel[] {toGuest, control, data, dataWriter}) {
      try {
        ch.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    controlChunks.clear();
    dataChunks.clear();
    controlChunks.offer(EOF);
    dataChunks.offer(EOF);
    if (first != null) {
      throw first;
    }
  }
}
