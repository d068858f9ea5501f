package io.lcowgd.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void firstFailureWinsAndLaterOnesAreSuppressedInOrder() {
    IOException a = new IOException("a");
    IOException b = new IOException("b");
    IOException c = new IOException("c");
    IOException failure = null;
    failure = Failures.add(failure, a);
    assertSame(a, failure);
    failure = Failures.add(failure, b);
    failure = Failures.add(failure, c);
    assertSame(a, failure);
    assertArrayEquals(new Throwable[] {b, c}, a.getSuppressed());
    assertArrayEquals(new Throwable[0], b.getSuppressed());
  }
}
