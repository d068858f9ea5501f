package io.lcowgd.lcow;

import io.lcowgd.convert.OverlayTarRewriter;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.PayloadRange;
import io.lcowgd.svm.VmLease;
import io.lcowgd.svm.uml.UmlVm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Diff of a sandbox against its own parent (what {@code docker commit} asks for) run in a service VM of the guest
 * pool ({@code lcow.svm=uml}): the sandbox image is attached read-only in the VM serving the layer (after a
 * {@code syncfs} on the host when a container has it mounted), the guest lists its opaque directories
 * ({@code getfattr}) and streams a busybox tar of {@code upper/} (or of the whole filesystem when there is none) to
 * the host, where {@link OverlayTarRewriter} turns it, entry by entry, into the same layer tar as the host export.
 * The lease and the attachment are released when the returned stream is closed.
 */
final class GuestDiff {
  private static final int PIPE_BYTES = 1 << 20;
  private static final java.util.concurrent.atomic.AtomicLong COMPLETED = new java.util.concurrent.atomic.AtomicLong();

  private GuestDiff() {}

  /** How many guest Diffs this process has streamed to their end (shown in Status). */
  static long completed() {
    return COMPLETED.get();
  }

  /** Whether {@code Diff(id, parent)} is a sandbox's own diff that the guest pool serves. */
  static boolean applies(LcowDriver.Context c, String id, String parent) throws IOException {
    if (c.guests() == null) {
      return false;
    }
    Layer l = c.store().layer(id);
    return l.kind() == LayerKind.SANDBOX && (parent == null || parent.equals(l.parent()));
  }

  static TarStream diff(LcowDriver.Context c, String id) throws IOException {
    Layer l = c.store().layer(id);
    c.pool().sync(l.image()); // a container's read-write mount: push its page cache into the file first
    PayloadRange range = ImagePayload.of(l);
    VmLease lease = c.guests().acquire(id);
    VmLease.Attachment a = null;
    try {
      a = lease.attach(l.image(), range, AccessMode.READ_ONLY);
      UmlVm vm = (UmlVm) lease.vm();
      String mp = a.guestPath();
      boolean upper = vm.run("if [ -d " + q(mp + "/upper") + " ]; then echo upper; else echo whole; fi").strip()
          .equals("upper");
      String dir = upper ? mp + "/upper" : mp;
      // getfattr writes name bytes >= 0x80 raw: the listing comes back hex-encoded (od) to keep every byte.
      Set<String> opaque = parseOpaque(fromHex(vm.run("cd " + q(dir)
          + " && getfattr -R -P -h -d -m '^trusted\\.overlay\\.opaque$' -e text . >\"$TMPDIR/.gf\""
          + " && od -An -v -tx1 \"$TMPDIR/.gf\"; rc=$?; rm -f \"$TMPDIR/.gf\"; exit $rc")));
      return new Stream(id, lease, a, vm, dir, opaque,
          upper ? OverlayTarRewriter.RootLostFound.KEEP : OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY);
    } catch (IOException | RuntimeException e) {
      release(e, a, lease);
      throw new IOException("Diff " + id + " in service VM " + lease.vmId() + ": " + e.getMessage(), e);
    }
  }

  private static void release(Exception primary, VmLease.Attachment a, VmLease lease) {
    try {
      if (a != null) {
        a.close();
      }
    } catch (IOException | RuntimeException s) {
      primary.addSuppressed(s);
    }
    try {
      lease.close();
    } catch (IOException | RuntimeException s) {
      primary.addSuppressed(s);
    }
  }

  /**
   * The directories whose {@code trusted.overlay.opaque} is {@code y}, from {@code getfattr -d -e text} output
   * (names relative, one char per byte; getfattr writes control characters and backslashes as {@code \ooo}).
   */
  static Set<String> parseOpaque(String listing) throws IOException {
    Set<String> out = new HashSet<>();
    String file = null;
    for (String line : listing.split("\n", -1)) {
      if (line.startsWith("# file: ")) {
        file = unescape(line.substring("# file: ".length()));
      } else if (line.equals("trusted.overlay.opaque=\"y\"") && file != null) {
        String rel = relative(file);
        if (!rel.isEmpty()) {
          out.add(rel);
        }
      }
    }
    return out;
  }

  /** {@code od -An -tx1} output (hex byte pairs separated by white space) as one char per byte. */
  static String fromHex(String od) throws IOException {
    StringBuilder b = new StringBuilder();
    for (String tok : od.trim().split("\\s+")) {
      if (tok.isEmpty()) {
        continue;
      }
      if (!tok.matches("[0-9a-f]{2}")) {
        throw new IOException("unexpected od output token '" + tok + "'");
      }
      b.append((char) Integer.parseInt(tok, 16));
    }
    return b.toString();
  }

  private static String relative(String name) {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    return n.equals(".") ? "" : n;
  }

  private static String unescape(String s) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '\\') {
        b.write('\\');
        i++;
      } else if (ch == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        b.write(Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else if (ch > 0xff) {
        throw new IOException("getfattr listing has a non-byte character in " + s);
      } else {
        b.write(ch);
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  /** The layer tar, produced once: a pump thread copies the guest's tar into a pipe that the rewriter reads. */
  private static final class Stream implements TarStream {
    private final String id;
    private final VmLease lease;
    private final VmLease.Attachment attachment;
    private final UmlVm vm;
    private final String dir;
    private final Set<String> opaque;
    private final OverlayTarRewriter.RootLostFound lostFound;

    Stream(String id, VmLease lease, VmLease.Attachment attachment, UmlVm vm, String dir, Set<String> opaque,
        OverlayTarRewriter.RootLostFound lostFound) {
      this.id = id;
      this.lease = lease;
      this.attachment = attachment;
      this.vm = vm;
      this.dir = dir;
      this.opaque = opaque;
      this.lostFound = lostFound;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      PipedInputStream pin = new PipedInputStream(PIPE_BYTES);
      DiscardingPipe sink = new DiscardingPipe(new PipedOutputStream(pin));
      CompletableFuture<Long> pump = new CompletableFuture<>();
      String command = "tar -cf - -C " + q(dir) + " .";
      Thread t = new Thread(() -> {
        try {
          pump.complete(vm.stream(command, sink));
        } catch (Throwable e) {
          pump.completeExceptionally(e);
        } finally {
          sink.closeQuietly();
        }
      }, "lcow-guest-diff-" + id);
      t.setDaemon(true);
      t.start();
      InputStream guarded = new PumpChecked(pin, pump);
      try {
        OverlayTarRewriter.rewrite(guarded, opaque, lostFound, out);
      } catch (IOException | RuntimeException e) {
        pin.close(); // the pump discards the rest, so the guest agent stays in step
        IOException pumpFailure = failure(pump);
        if (pumpFailure != null) {
          if (!causedBy(e, pumpFailure.getCause())) {
            pumpFailure.addSuppressed(e);
          }
          throw pumpFailure;
        }
        throw new IOException("Diff " + id + " (service VM " + lease.vmId() + "): " + e.getMessage(), e);
      } finally {
        pin.close();
      }
      IOException pumpFailure = failure(pump);
      if (pumpFailure != null) {
        throw pumpFailure;
      }
      COMPLETED.incrementAndGet();
    }

    private static boolean causedBy(Throwable t, Throwable cause) {
      for (Throwable x = t; x != null; x = x.getCause()) {
        if (x == cause) {
          return true;
        }
      }
      return false;
    }

    private IOException failure(CompletableFuture<Long> pump) {
      try {
        pump.get();
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new java.io.InterruptedIOException("Diff " + id + ": interrupted waiting for service VM "
            + lease.vmId());
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        return new IOException("Diff " + id + ": guest export in service VM " + lease.vmId() + " failed: "
            + cause.getMessage(), cause);
      }
    }

    @Override
    public void close() throws IOException {
      IOException failure = null;
      try {
        attachment.close();
      } catch (IOException | RuntimeException e) {
        if (vm.alive()) {
          failure = new IOException("Diff " + id + ": detach in service VM " + lease.vmId() + ": " + e.getMessage(), e);
        } // a dead VM has nothing left to detach; the pool replaces it
      }
      try {
        lease.close();
      } catch (IOException e) {
        failure = Failures.collect(failure, e);
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * The pipe's read side: at the end of the data it waits for the pump and fails with the guest's error instead of
   * reporting a clean end, so a guest that dies mid-export never yields a tar that looks complete.
   */
  private static final class PumpChecked extends java.io.FilterInputStream {
    private final CompletableFuture<Long> pump;

    PumpChecked(InputStream in, CompletableFuture<Long> pump) {
      super(in);
      this.pump = pump;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b < 0) {
        check();
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n < 0) {
        check();
      }
      return n;
    }

    private void check() throws IOException {
      try {
        pump.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted waiting for the guest export");
      } catch (ExecutionException e) {
        throw new IOException(e.getCause().getMessage(), e.getCause());
      }
    }
  }

  /**
   * The pump's sink: writes into the pipe (flushing, which wakes the reader at once) until the reader is gone, then
   * discards, so the guest's stream is always read to its end.
   */
  private static final class DiscardingPipe extends OutputStream {
    private final PipedOutputStream pipe;
    private boolean discarding;

    DiscardingPipe(PipedOutputStream pipe) {
      this.pipe = pipe;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (discarding) {
        return;
      }
      try {
        pipe.write(b, off, len);
        pipe.flush();
      } catch (IOException e) {
        discarding = true;
      }
    }

    void closeQuietly() {
      try {
        pipe.close();
      } catch (IOException ignored) {
        // the reader is gone; nothing to tell it
      }
    }
  }
}
