package io.lcowgd.io;

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
}
