package io.lcowgd.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The buffered byte source under the tar parser. It knows its absolute position (so an entry's data can be copied
 * straight from the tar file with {@link FileChannel#transferTo}), can record the raw header bytes the parser reads
 * (to recover binary PAX values, which the parser decodes as UTF-8), and can treat a range as already consumed so
 * that the parser skipping it costs no copying.
 */
final class TarInput extends InputStream {
  /** Largest header sequence captured for one entry (PAX records, long names); more is an error. */
  static final int MAX_CAPTURE = 8 << 20;

  private final InputStream in;
  private final FileChannel channel;
  private final byte[] buf;
  private int pos;
  private int limit;
  /** Absolute position of {@code buf[0]}. */
  private long bufStart;
  /** Bytes before this absolute position were consumed out of band: reads return without copying. */
  private long consumedUntil = -1;
  private ByteArrayOutputStream capture;
  private long captureStart = -1;
  private boolean eof;

  private TarInput(InputStream in, FileChannel channel, long start, int bufferSize) {
    this.in = in;
    this.channel = channel;
    this.buf = new byte[bufferSize];
    this.bufStart = start;
  }

  /**
   * Wraps {@code in}; if it is a {@link java.io.FileInputStream} on a regular file, reads go through its channel
   * and {@link #channel()} is available for direct copies.
   */
  static TarInput of(InputStream in, int bufferSize) {
    if (in instanceof java.io.FileInputStream fis) {
      FileChannel ch = fis.getChannel();
      try {
        long p = ch.position();
        if (ch.size() >= p) {
          return new TarInput(null, ch, p, bufferSize);
        }
      } catch (IOException notSeekable) {
        // A pipe or socket: use the stream.
      }
    }
    return new TarInput(in, null, 0, bufferSize);
  }

  /** The file channel under this stream, or null if it is not a regular file. */
  FileChannel channel() {
    return channel;
  }

  /** Absolute position of the next byte to be read. */
  long position() {
    return bufStart + pos;
  }

  /**
   * Declares that the next {@code count} bytes were consumed out of band (copied by {@code transferTo}); reading over
   * them returns the requested lengths without filling the caller's buffer.
   */
  void consumedOutOfBand(long count) {
    consumedUntil = position() + count;
  }

  void startCapture() {
    capture = new ByteArrayOutputStream();
    captureStart = -1;
  }

  /** Absolute position of the first captured byte (-1 if nothing was captured). */
  long captureStart() {
    return captureStart;
  }

  byte[] stopCapture() {
    byte[] b = capture == null ? new byte[0] : capture.toByteArray();
    capture = null;
    return b;
  }

  private boolean fill() throws IOException {
    if (eof) {
      return false;
    }
    bufStart += limit;
    pos = 0;
    limit = 0;
    int n;
    if (channel != null) {
      n = channel.read(ByteBuffer.wrap(buf), bufStart);
    } else {
      n = in.read(buf, 0, buf.length);
    }
    if (n <= 0) {
      eof = n < 0;
      return false;
    }
    limit = n;
    return true;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n <= 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    long p = position();
    if (p < consumedUntil) {
      int n = (int) Math.min(len, consumedUntil - p);
      seekForward(n);
      return n;
    }
    if (pos == limit) {
      if (channel != null && len >= buf.length && capture == null) {
        // Large read straight into the caller's array.
        bufStart += limit;
        pos = 0;
        limit = 0;
        int n = channel.read(ByteBuffer.wrap(b, off, len), bufStart);
        if (n > 0) {
          bufStart += n;
        }
        return n;
      }
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(len, limit - pos);
    System.arraycopy(buf, pos, b, off, n);
    pos += n;
    if (capture != null) {
      if (capture.size() + n > MAX_CAPTURE) {
        throw new IOException("tar headers of one entry exceed " + MAX_CAPTURE + " bytes");
      }
      if (captureStart < 0) {
        captureStart = position() - n;
      }
      capture.write(b, off, n);
    }
    return n;
  }

  /** Moves forward {@code n} bytes without reading them when the source is a channel. */
  private void seekForward(long n) throws IOException {
    long inBuf = Math.min(n, limit - pos);
    pos += (int) inBuf;
    n -= inBuf;
    if (n == 0) {
      return;
    }
    if (channel != null) {
      bufStart += limit + n;
      pos = 0;
      limit = 0;
      return;
    }
    bufStart += limit;
    pos = 0;
    limit = 0;
    byte[] scratch = new byte[(int) Math.min(n, 1 << 16)];
    while (n > 0) {
      int r = in.read(scratch, 0, (int) Math.min(n, scratch.length));
      if (r < 0) {
        throw new java.io.EOFException("unexpected end of tar stream");
      }
      bufStart += r;
      n -= r;
    }
  }

  @Override
  public long skip(long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    if (channel != null) {
      long remainingInFile = channel.size() - position();
      long s = Math.max(0, Math.min(n, remainingInFile));
      seekForward(s);
      return s;
    }
    long done = 0;
    while (done < n) {
      if (pos == limit && !fill()) {
        break;
      }
      int k = (int) Math.min(n - done, limit - pos);
      pos += k;
      done += k;
    }
    return done;
  }

  @Override
  public int available() throws IOException {
    return limit - pos;
  }

  /** Reads and discards everything up to the end of the stream; returns the number of bytes drained. */
  long drain() throws IOException {
    long n = 0;
    if (channel != null) {
      long left = channel.size() - position();
      if (left > 0) {
        seekForward(left);
        n = left;
      }
      // Leave the caller's stream at the end too (reads here are positional).
      channel.position(position());
      return n;
    }
    n += limit - pos;
    pos = limit;
    while (fill()) {
      n += limit;
      pos = limit;
    }
    return n;
  }
}
