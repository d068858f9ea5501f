package io.lcowgd.lcow;

import java.io.IOException;

/** Accumulates cleanup failures: the first one is thrown, later ones ride along as suppressed. */
final class Failures {
  private Failures() {}

  /** Returns {@code next} when {@code first} is null, else {@code first} with {@code next} added as suppressed. */
  static IOException collect(IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }
}
