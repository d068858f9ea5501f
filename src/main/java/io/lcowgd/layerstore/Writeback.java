package io.lcowgd.layerstore;

import com.sun.jna.LastErrorException;
import io.lcowgd.posix.LibC;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Starts the write-out of a file's dirty pages while the file is still being written, so that the {@code fsync} that
 * makes it durable finds little left to write. A daemon thread calls {@code sync_file_range(SYNC_FILE_RANGE_WRITE)}
 * on the whole file every {@code interval}: that only queues dirty pages for write-out (it neither waits for them nor
 * commits metadata), so it never replaces the final {@code fsync}, which the caller must still do.
 *
 * <p>Best effort: a file that does not exist yet is looked for again on the next tick; if the call is unavailable
 * (not Linux, no libc through JNA) or fails, the thread stops quietly and the final {@code fsync} simply has more
 * to do. {@link #close()} stops the thread and waits for it.
 */
final class Writeback implements AutoCloseable {
  /** The default interval between two write-out requests. */
  static final Duration INTERVAL = Duration.ofMillis(50);

  /** libc through JNA, or null where it cannot be loaded (then the final fsync does all the work). */
  private static final class Holder {
    static final LibC LIBC = load();

    private static LibC load() {
      try {
        return LibC.INSTANCE;
      } catch (LinkageError | RuntimeException e) {
        return null;
      }
    }
  }

  private final Path file;
  private final long intervalNanos;
  private final Thread thread;
  private final AtomicLong requests = new AtomicLong();
  private volatile boolean stop;

  private Writeback(Path file, Duration interval) {
    this.file = file;
    this.intervalNanos = interval.toNanos();
    this.thread = new Thread(this::loop, "lcow-writeback");
    this.thread.setDaemon(true);
  }

  /** Starts pushing {@code file}'s dirty pages to disk every {@code interval} until {@link #close()}. */
  static Writeback start(Path file, Duration interval) {
    Writeback w = new Writeback(file, interval);
    w.thread.start();
    return w;
  }

  /** How many write-out requests succeeded so far (for tests). */
  long requests() {
    return requests.get();
  }

  private void loop() {
    LibC libc = Holder.LIBC;
    if (libc == null) {
      return;
    }
    int fd = -1;
    try {
      while (!stop) {
        LockSupport.parkNanos(this, intervalNanos);
        if (stop) {
          break;
        }
        if (fd < 0) {
          try {
            fd = libc.open(file.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
          } catch (LastErrorException e) {
            continue; // not created yet
          }
        }
        libc.sync_file_range(fd, 0, 0, LibC.SYNC_FILE_RANGE_WRITE);
        requests.incrementAndGet();
      }
    } catch (LastErrorException e) {
      // Unsupported here (e.g. a filesystem without it): the final fsync does all the work, as without this class.
    } finally {
      if (fd >= 0) {
        try {
          libc.close(fd);
        } catch (LastErrorException e) {
          // nothing was written through this descriptor; nothing to lose
        }
      }
    }
  }

  /** Stops the thread and waits until it has closed its descriptor. */
  @Override
  public void close() {
    stop = true;
    LockSupport.unpark(thread);
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
