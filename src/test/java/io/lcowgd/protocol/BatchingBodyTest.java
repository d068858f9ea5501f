package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchingBodyTest {
  /**
   * A body delivered in scripted pieces, as a socket delivers a sender's chunks: {@code available()} is the rest of
   * the current piece (0 between pieces, until the next read blocks for it), and a read never crosses a piece.
   */
  private static final class Pieces extends InputStream {
    private final List<byte[]> pieces;
    private int piece;
    private int pos;
    /** Whether piece i is already buffered when the reader comes to it (else a read would wait for it). */
    private final boolean[] buffered;
    int reads;

    Pieces(List<byte[]> pieces, boolean[] buffered) {
      this.pieces = pieces;
      this.buffered = buffered;
    }

    @Override
    public int available() {
      if (piece >= pieces.size()) {
        return 0;
      }
      if (pos == 0 && !buffered[piece]) {
        return 0; // this chunk has not arrived yet: a read would block for it
      }
      return pieces.get(piece).length - pos;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (piece >= pieces.size()) {
        return -1;
      }
      reads++;
      byte[] p = pieces.get(piece);
      int n = Math.min(len, p.length - pos);
      System.arraycopy(p, pos, b, off, n);
      pos += n;
      if (pos == p.length) {
        piece++;
        pos = 0;
      }
      return n;
    }
  }

  @Test
  void pausesOnlyWhenNothingIsBufferedAndPassesEveryByteUnchanged() throws IOException {
    Random rnd = new Random(42);
    List<byte[]> pieces = new ArrayList<>();
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    boolean[] buffered = new boolean[200];
    int dry = 0;
    for (int i = 0; i < 200; i++) {
      byte[] p = new byte[rnd.nextBoolean() ? 512 : 1 + rnd.nextInt(32 << 10)];
      rnd.nextBytes(p);
      pieces.add(p);
      all.write(p);
      buffered[i] = i > 0 && rnd.nextInt(3) > 0; // the first chunk has not arrived when reading starts
      if (!buffered[i]) {
        dry++;
      }
    }
    Pieces src = new Pieces(pieces, buffered);
    List<Long> pauses = new ArrayList<>();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try (BatchingBody body = new BatchingBody(src, pauses::add)) {
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = body.read(buf, 0, buf.length)) >= 0) {
        got.write(buf, 0, n);
      }
    }
    assertArrayEquals(all.toByteArray(), got.toByteArray());
    // One pause per chunk that had not arrived when the reader came to it (the first among them), and one before the
    // read that meets the end; never one while data was buffered. Every read still returns what one chunk holds.
    assertEquals(dry + 1, pauses.size());
    pauses.forEach(p -> assertEquals(BatchingBody.PAUSE_NANOS, p));
    assertEquals(pieces.size(), src.reads);
  }

  @Test
  void singleByteReadsPauseTheSameWay() throws IOException {
    Pieces src = new Pieces(List.of(new byte[] {1, 2}, new byte[] {3}), new boolean[] {false, false});
    List<Long> pauses = new ArrayList<>();
    try (BatchingBody body = new BatchingBody(src, pauses::add)) {
      assertEquals(1, body.read()); // nothing buffered yet: pause
      assertEquals(2, body.read()); // buffered: no pause
      assertEquals(3, body.read()); // the second chunk had not arrived: pause
      assertEquals(-1, body.read()); // end: pause, then -1
    }
    assertEquals(3, pauses.size());
  }
}
