package io.lcowgd.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void undoRunsTheStepAndKeepsItsIoFailureAsSuppressed() {
    IllegalStateException primary = new IllegalStateException("primary");
    boolean[] ran = {false};
    assertSame(primary, Failures.undo(primary, () -> ran[0] = true));
    assertTrue(ran[0]);
    assertArrayEquals(new Throwable[0], primary.getSuppressed());
    IOException undoFailure = new IOException("undo");
    assertSame(primary, Failures.undo(primary, () -> {
      throw undoFailure;
    }));
    assertArrayEquals(new Throwable[] {undoFailure}, primary.getSuppressed());
  }

  @Test
  void undoLetsUncheckedFailuresOfTheStepPropagate() {
    IOException primary = new IOException("primary");
    RuntimeException bug = new RuntimeException("bug");
    assertSame(bug, assertThrows(RuntimeException.class, () -> Failures.undo(primary, () -> {
      throw bug;
    })));
    assertArrayEquals(new Throwable[0], primary.getSuppressed());
  }
}
