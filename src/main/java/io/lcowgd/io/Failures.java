package io.lcowgd.io;

import java.io.IOException;

/**
 * Collects the failures of a sequence of clean-up steps that must all run: the first failure is the one thrown, the
 * later ones ride along as suppressed exceptions.
 */
public final class Failures {
  private Failures() {}

  /**
   * Returns {@code next} when {@code first} is null, else {@code first} with {@code next} added as suppressed.
   * Typical use: {@code failure = Failures.add(failure, e);} in each catch, then {@code if (failure != null) throw
   * failure;}.
   */
  public static <T extends Throwable> T add(T first, T next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /** A clean-up step that may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface Undo {
    void run() throws IOException;
  }

  /**
   * Runs {@code undo} after {@code primary} has failed: an {@link IOException} from {@code undo} is added to
   * {@code primary} as suppressed (other exceptions propagate). Returns {@code primary}, for the caller to throw.
   */
  public static <T extends Throwable> T undo(T primary, Undo undo) {
    try {
      undo.run();
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
    return primary;
  }
}
