package io.lcowgd.lcow;

import static io.lcowgd.svm.uml.UmlVm.quote;

import io.lcowgd.convert.OverlayTarRewriter;
import io.lcowgd.disk.PayloadRange;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.io.Failures;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.VmLease;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.svm.uml.UmlVm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Diff of a sandbox against its own parent (what {@code docker commit} asks for) run in a service VM of the guest
 * pool ({@code lcow.svm=uml}): the sandbox image is attached read-only in the VM serving the layer (after a
 * {@code syncfs} on the host when a container has it mounted), the guest streams its hard-link listing and a GNU tar
 * of {@code upper/} (or of the whole filesystem when there is none) to the host, where {@link OverlayTarRewriter}
 * re-emits it, entry by entry, as the same bytes as the host backend's export of the sandbox.
 * The lease and the attachment are released when the returned stream is closed. A host-side failure (an entry the
 * rewriter refuses, a client gone) abandons the guest command instead of reading its stream to the end: the agent
 * is then out of step and the pool replaces the VM (at once in safe mode, at the next lease in global mode).
 */
final class GuestDiff {
  /** GNU tar and GNU find in the guest ({@code scripts/build-uvm} installs them; busybox has the plain names). */
  static final String GNU_TAR = "/usr/libexec/lcow/tar";
  static final String GNU_FIND = "/usr/libexec/lcow/find";
  /**
   * GNU tar's options: PAX (nanosecond and pre-1970 mtimes, big ids, raw names), every xattr (as root, including
   * {@code trusted.overlay.opaque}), numeric owners, name order (the sandbox export's order), sockets skipped quietly,
   * 64 KiB blocks; atime and ctime records left out (the export has none).
   */
  static final String TAR_OPTIONS = "-cf - -b 128 --format=pax --pax-option=delete=atime,delete=ctime --xattrs"
      + " --xattrs-include='*' --numeric-owner --sort=name --warning=no-file-ignored";
  /** Bound on the guest's hard-link listing, which is held in memory. */
  static final long MAX_LINK_LISTING = 64L << 20;
  /**
   * Bound on the listing's record count (one map entry each, about 150 bytes of heap): overlayfs links every
   * whiteout to one inode, so a sandbox with more deletions than this fails its guest Diff (docs/uml.md).
   */
  static final int MAX_LINK_RECORDS = 1 << 20;
  private static final java.util.concurrent.atomic.AtomicLong COMPLETED = new java.util.concurrent.atomic.AtomicLong();

  private GuestDiff() {}

  /** How many guest Diffs this process has streamed to their end (shown in Status). */
  static long completed() {
    return COMPLETED.get();
  }

  static TarStream diff(LcowDriver.Context c, String id) throws IOException {
    Layer l = c.store().layer(id);
    c.pool().sync(l.image()); // a container's read-write mount: push its page cache into the file first
    PayloadRange range = ImagePayload.of(l);
    VmLease lease = c.guests().acquire(id);
    VmLease.Attachment a = null;
    try {
      a = lease.attach(l.image(), range, AccessMode.READ_ONLY);
      UmlVm vm = UmlBackend.guest(lease.vm());
      String mp = a.guestPath();
      String up = quote(mp + "/upper");
      boolean upper = vm.run("if [ -d " + up + " ] && [ ! -L " + up + " ]; then echo upper; else echo whole; fi")
          .strip().equals("upper");
      String dir = upper ? mp + "/upper" : mp;
      return new Stream(id, lease, a, vm, dir,
          upper ? OverlayTarRewriter.RootLostFound.KEEP : OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY);
    } catch (IOException | RuntimeException e) {
      release(e, a, lease);
      throw new IOException("Diff " + id + " in service VM " + lease.vmId() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The guest command that streams the export of {@code dir}: first the hard-link listing (GNU find: one
   * {@code <inode> <relative path>\0} record per name of every non-directory with more than one link, then an empty
   * record), then GNU tar's archive of the tree in the sandbox export's order with everything it carries.
   */
  static String exportCommand(String dir) {
    return "cd " + quote(dir) + " && " + GNU_FIND + " . -mindepth 1 ! -type d -links +1 -printf '%i %P\\0'"
        + " && printf '\\0' && exec " + GNU_TAR + " " + TAR_OPTIONS + " .";
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
   * Reads the link listing at the head of the export stream (records {@code <inode> <path>\0}, names one char per
   * byte, ended by an empty record) and leaves {@code in} at the first byte after it; fails past
   * {@link #MAX_LINK_LISTING} bytes or {@link #MAX_LINK_RECORDS} records.
   */
  static Map<String, Long> readLinks(InputStream in) throws IOException {
    return readLinks(in, MAX_LINK_LISTING, MAX_LINK_RECORDS);
  }

  /** {@link #readLinks(InputStream)} with the given bounds on the listing's bytes and records. */
  static Map<String, Long> readLinks(InputStream in, long maxBytes, int maxRecords) throws IOException {
    Map<String, Long> out = new HashMap<>();
    ByteArrayOutputStream rec = new ByteArrayOutputStream();
    long total = 0;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("guest export ended inside its hard-link listing (" + total + " bytes)");
      }
      if (++total > maxBytes) {
        throw new IOException("guest hard-link listing exceeds " + maxBytes + " bytes");
      }
      if (b != 0) {
        rec.write(b);
        continue;
      }
      if (rec.size() == 0) {
        return out;
      }
      String r = rec.toString(StandardCharsets.ISO_8859_1);
      rec.reset();
      int sp = r.indexOf(' ');
      long inode = sp > 0 && sp <= 18 && sp < r.length() - 1 ? digits(r, sp) : -1;
      if (inode < 0) {
        String cut = r.length() > 200 ? r.substring(0, 200) : r;
        String shown = new String(cut.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
        throw new IOException("malformed guest hard-link listing record '" + shown + "'"
            + (r.length() > 200 ? " (first 200 of " + r.length() + " bytes)" : ""));
      }
      if (out.size() == maxRecords) {
        throw new IOException("guest hard-link listing exceeds " + maxRecords + " records (names of multiply-linked"
            + " files, overlayfs whiteouts included)");
      }
      out.put(r.substring(sp + 1), inode);
    }
  }

  /**
   * Where the export command runs: streams its stdout to {@code sink}, fails if it exits non-zero. When {@code sink}
   * fails (write or flush) the source must stop and fail with that error; a source that is idle for long flushes
   * {@code sink} now and then, so that it learns of an abandoned export while it produces nothing.
   */
  @FunctionalInterface
  interface Source {
    long stream(String command, OutputStream sink) throws IOException;
  }

  /**
   * Runs {@code command} on {@code source} (a pump thread copies its output into a pipe) and rewrites the stream
   * (link listing, then GNU tar) into the layer tar on {@code out}. The layer tar's end-of-archive marker is written
   * only after the command's status is known to be 0: a command that fails, even after a complete-looking tar (GNU
   * tar exits 2 after read errors), fails this with its error and leaves {@code out} without the marker. A failure
   * on the host side (the rewriter refuses an entry, {@code out} fails) stops the source (its sink fails with
   * {@link ExportPump.Abandoned}) and is thrown once the source has returned, unless the source had failed first: a
   * guest failure that truncated the stream is the cause to report. {@code what} and {@code where} name the Diff and
   * the VM in errors.
   */
  static void export(Source source, String command, OverlayTarRewriter.RootLostFound lostFound, OutputStream out,
      String what, String where) throws IOException {
    try (ExportPump pump = ExportPump.start(source, command, what)) {
      InputStream guarded = new java.io.BufferedInputStream(pump.input(), 1 << 16); // listing + tar
      try {
        OverlayTarRewriter.rewrite(guarded, readLinks(guarded), lostFound, out);
      } catch (IOException | RuntimeException e) {
        pump.abandon(); // the source's next write or flush fails: it stops instead of streaming to the end
        IOException pumpFailure = pump.failure(where);
        if (pumpFailure != null && !ExportPump.abandoned(pumpFailure)) {
          if (!causedBy(e, pumpFailure.getCause())) {
            pumpFailure.addSuppressed(e);
          }
          throw pumpFailure;
        }
        throw new IOException(what + " (" + where + "): " + e.getMessage(), e);
      }
      IOException pumpFailure = pump.failure(where);
      if (pumpFailure != null) {
        throw pumpFailure;
      }
    }
  }

  private static boolean causedBy(Throwable t, Throwable cause) {
    for (Throwable x = t; x != null; x = x.getCause()) {
      if (x == cause) {
        return true;
      }
    }
    return false;
  }

  /** The decimal number {@code s[0, end)}, or -1 if a char there is not a digit. */
  private static long digits(String s, int end) {
    long v = 0;
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  /** The layer tar, produced once: a pump thread copies the guest's tar into a pipe that the rewriter reads. */
  private static final class Stream implements TarStream {
    private final String id;
    private final VmLease lease;
    private final VmLease.Attachment attachment;
    private final UmlVm vm;
    private final String dir;
    private final OverlayTarRewriter.RootLostFound lostFound;

    Stream(String id, VmLease lease, VmLease.Attachment attachment, UmlVm vm, String dir,
        OverlayTarRewriter.RootLostFound lostFound) {
      this.id = id;
      this.lease = lease;
      this.attachment = attachment;
      this.vm = vm;
      this.dir = dir;
      this.lostFound = lostFound;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      export(vm::stream, exportCommand(dir), lostFound, out, "Diff " + id, "service VM " + lease.vmId());
      COMPLETED.incrementAndGet();
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
        failure = Failures.add(failure, e);
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
