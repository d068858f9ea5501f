package io.lcowgd.lcow;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A guest command's output copied by a pump thread into a 1 MiB pipe: {@link #input()} is the pipe's read side, which
 * ends with the command's failure instead of a clean end when the command failed; {@link #abandon()} makes the
 * command's sink fail at its next write or flush ({@link Abandoned}), so the source stops instead of streaming to
 * its end. {@link #close()} closes the read side.
 */
final class ExportPump implements AutoCloseable {
  private static final int PIPE_BYTES = 1 << 20;

  private final String what;
  private final PipedInputStream pin;
  private final AbandonablePipe sink;
  private final CompletableFuture<Long> pump = new CompletableFuture<>();

  private ExportPump(String what) throws IOException {
    this.what = what;
    this.pin = new PipedInputStream(PIPE_BYTES);
    this.sink = new AbandonablePipe(new PipedOutputStream(pin), what);
  }

  /** Starts a daemon thread running {@code command} on {@code source}; {@code what} names the export in errors. */
  static ExportPump start(GuestDiff.Source source, String command, String what) throws IOException {
    ExportPump p = new ExportPump(what);
    Thread t = new Thread(() -> {
      try {
        p.pump.complete(source.stream(command, p.sink));
      } catch (Throwable e) {
        p.pump.completeExceptionally(e);
      } finally {
        p.sink.closeQuietly();
      }
    }, "lcow-guest-export (" + what + ")");
    t.setDaemon(true);
    t.start();
    return p;
  }

  /** The command's output; at its end, the command's failure if it failed. */
  InputStream input() {
    return new PumpChecked(pin, pump);
  }

  /** Stops reading: the source's next write or flush fails with {@link Abandoned}. */
  void abandon() throws IOException {
    sink.abandon();
    pin.close();
  }

  /**
   * Waits for the source to return and gives its failure ({@code <what>: guest export in <where> failed: ...}), or
   * null when it succeeded.
   */
  IOException failure(String where) {
    try {
      pump.get();
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new java.io.InterruptedIOException(what + ": interrupted waiting for " + where);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      return new IOException(what + ": guest export in " + where + " failed: " + cause.getMessage(), cause);
    }
  }

  /** Whether {@code failure} came from {@link #abandon()} rather than from the source itself. */
  static boolean abandoned(Throwable failure) {
    for (Throwable x = failure; x != null; x = x.getCause()) {
      if (x instanceof Abandoned) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() throws IOException {
    pin.close();
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

  /** What the pump's sink throws once the host side has failed: the source must stop streaming. */
  static final class Abandoned extends IOException {
    Abandoned(String message) {
      super(message);
    }
  }

  /**
   * The pump's sink: writes into the pipe (flushing, which wakes the reader at once) until the export is abandoned
   * (or the reader is gone), then fails every write and flush with {@link Abandoned}.
   */
  private static final class AbandonablePipe extends OutputStream {
    private final PipedOutputStream pipe;
    private final String what;
    private volatile boolean abandoned;

    AbandonablePipe(PipedOutputStream pipe, String what) {
      this.pipe = pipe;
      this.what = what;
    }

    void abandon() {
      abandoned = true;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      check();
      try {
        pipe.write(b, off, len);
        pipe.flush();
      } catch (IOException e) {
        abandoned = true;
      }
      check();
    }

    @Override
    public void flush() throws IOException {
      check();
    }

    private void check() throws Abandoned {
      if (abandoned) {
        throw new Abandoned(what + ": the host stopped reading the guest's export");
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
