package io.lcowgd.svm;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one backend operation with an upper bound on its duration ({@code lcow.timeout}).
 *
 * <p>A kernel call or a VM request cannot be cancelled, so on timeout the caller gets a {@link
 * VmTimeoutException} and the operation keeps running on its worker thread; if it later succeeds, {@code undo}
 * receives its result so nothing it made is leaked.
 */
final class Bounded {
  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final ExecutorService WORKERS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "lcow-svm-op-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  private final Duration timeout;

  Bounded(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    this.timeout = timeout;
  }

  Duration timeout() {
    return timeout;
  }

  /** An operation that may throw {@link IOException}. */
  interface Op<T> {
    T run() throws IOException;
  }

  /** Undoes the result of an operation that finished after its caller gave up. */
  interface Undo<T> {
    void undo(T result) throws IOException;
  }

  <T> T call(String what, Op<T> op, Undo<T> undo) throws IOException {
    AtomicBoolean abandoned = new AtomicBoolean();
    CompletableFuture<T> f = new CompletableFuture<>();
    WORKERS.execute(
        () -> {
          T result;
          try {
            result = op.run();
          } catch (Throwable t) {
            f.completeExceptionally(t);
            return;
          }
          synchronized (abandoned) {
            if (!abandoned.get()) {
              f.complete(result);
              return;
            }
          }
          try {
            undo.undo(result);
          } catch (IOException | RuntimeException e) {
            // Nobody waits for this result any more; the backend's terminate/clean-up owns what is left.
          }
        });
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      synchronized (abandoned) {
        abandoned.set(true);
        if (!f.isDone()) {
          throw new VmTimeoutException(what + ": timed out after " + timeout.toSeconds() + " s (lcow.timeout)");
        }
      }
      return unwrap(what, f);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      synchronized (abandoned) {
        abandoned.set(true);
      }
      InterruptedIOException ie = new InterruptedIOException(what + ": interrupted");
      ie.initCause(e);
      throw ie;
    } catch (ExecutionException e) {
      return unwrap(what, f);
    }
  }

  private static <T> T unwrap(String what, CompletableFuture<T> f) throws IOException {
    try {
      return f.join();
    } catch (CancellationException e) {
      throw new IOException(what + ": cancelled", e);
    } catch (RuntimeException e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IOException(what + ": " + c, c);
    }
  }
}
