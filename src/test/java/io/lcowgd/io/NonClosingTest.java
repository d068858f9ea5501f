package io.lcowgd.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.junit.jupiter.api.Test;

class NonClosingTest {
  /** Records flush and close calls of the stream under the wrapper. */
  private static final class Tracking extends ByteArrayOutputStream {
    int flushes;
    boolean closed;

    @Override
    public void flush() {
      flushes++;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void outputPassesWritesAndOnlyFlushesOnClose() throws IOException {
    Tracking sink = new Tracking();
    try (OutputStream o = NonClosing.output(sink)) {
      o.write(7);
      o.write(new byte[] {1, 2, 3, 4}, 1, 2);
      o.write(new byte[] {9});
    }
    assertArrayEquals(new byte[] {7, 2, 3, 9}, sink.toByteArray());
    assertFalse(sink.closed, "the wrapped stream must stay open");
    assertEquals(1, sink.flushes);
  }

  @Test
  void inputPassesReadsAndLeavesTheStreamReadableAfterClose() throws IOException {
    boolean[] closed = {false};
    InputStream src = new ByteArrayInputStream(new byte[] {5, 6, 7, 8}) {
      @Override
      public void close() {
        closed[0] = true;
      }
    };
    try (InputStream in = NonClosing.input(src)) {
      assertEquals(5, in.read());
    }
    assertFalse(closed[0]);
    assertArrayEquals(new byte[] {6, 7, 8}, src.readAllBytes());
    assertTrue(src.available() == 0);
  }
}
