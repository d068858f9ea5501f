package io.lcowgd.ext4.format;

/**
 * The ext4 timestamp encoding: a signed 32-bit seconds field plus an {@code _extra} word whose bits 0-1 extend the
 * epoch (adding {@code n << 32} seconds) and bits 2-31 hold nanoseconds. The representable range is
 * [-2^31, 2^34 - 2^31 - 1] seconds (1901-12-13 to 2446-05-10).
 */
public final class Ext4Time {
  private Ext4Time() {}

  /** Smallest representable second. */
  public static final long MIN_SECONDS = Integer.MIN_VALUE;
  /** Largest representable second. */
  public static final long MAX_SECONDS = (1L << 34) + Integer.MIN_VALUE - 1;

  /** Clamps {@code seconds} into the representable range. */
  public static long clamp(long seconds) {
    return Math.max(MIN_SECONDS, Math.min(MAX_SECONDS, seconds));
  }

  /** The 32-bit seconds field (as unsigned {@code long}) for {@code seconds} (clamped). */
  public static long encodeSeconds(long seconds) {
    return (int) clamp(seconds) & 0xFFFF_FFFFL;
  }

  /** The {@code _extra} word (as unsigned {@code long}) for {@code seconds} (clamped) and {@code nanos}. */
  public static long encodeExtra(long seconds, int nanos) {
    if (nanos < 0 || nanos > 999_999_999) {
      throw new IllegalArgumentException("nanoseconds out of range: " + nanos);
    }
    long s = clamp(seconds);
    long epoch = ((s - (int) s) >> 32) & 3;
    return (epoch | (long) nanos << 2) & 0xFFFF_FFFFL;
  }

  /** Decodes seconds since the epoch from the 32-bit field and the {@code _extra} word. */
  public static long decodeSeconds(long lo, long extra) {
    return (int) lo + ((extra & 3) << 32);
  }

  /** Decodes the nanoseconds from the {@code _extra} word. */
  public static int decodeNanos(long extra) {
    return (int) ((extra & 0xFFFF_FFFFL) >>> 2);
  }
}
