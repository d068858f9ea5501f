package io.lcowgd.protocol;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * A streamed request body that is read in batches rather than chunk by chunk: a read that finds nothing buffered
 * first pauses for {@link #PAUSE_NANOS}, so that what the sender writes meanwhile is there for the reads that follow.
 * The bytes are those of the wrapped stream, unchanged.
 *
 * <p>Why: dockerd sends an ApplyDiff body as one HTTP chunk per read of its tar pipeline (tar-split and the layer
 * digest), most of them a 512-byte tar header or a few KiB of file data: some 20,000 chunks for a 200 MB layer. A
 * reader that blocks as soon as it has caught up is woken for nearly every chunk (dockerd's write wakes Jetty's
 * selector, which wakes the reading thread), and on a two-core machine those wake-ups cost both processes CPU. With
 * the pause, one wake-up takes in the 20-40 KB that dockerd writes meanwhile, well under what a unix socket buffers,
 * so dockerd is not held up. The price is paid only by a sender far faster than both dockerd and the tar converter
 * behind ApplyDiff (~400 MB/s): a bare read loop fed at 1.4 GB/s drops to about 0.9 GB/s. Measured in
 * {@code docs/benchmarks.md}.
 */
final class BatchingBody extends FilterInputStream {
  /** How long a read that finds nothing buffered waits before it blocks. */
  static final long PAUSE_NANOS = 100_000;

  private final LongConsumer pause;

  BatchingBody(InputStream in) {
    this(in, LockSupport::parkNanos);
  }

  /** {@code pause} is called with {@link #PAUSE_NANOS} when a read finds nothing buffered (tests record it). */
  BatchingBody(InputStream in, LongConsumer pause) {
    super(in);
    this.pause = pause;
  }

  @Override
  public int read() throws IOException {
    pauseIfDry();
    return in.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len > 0) {
      pauseIfDry();
    }
    return in.read(b, off, len);
  }

  private void pauseIfDry() throws IOException {
    if (in.available() == 0) {
      pause.accept(PAUSE_NANOS);
    }
  }
}
