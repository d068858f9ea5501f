package io.lcowgd.svm.uml;

/**
 * The host uids (each also used as the gid) that UML guests run as: every guest takes one of its own, free uid
 * from this range for its life ({@link GuestJail}).
 *
 * @param first the first uid
 * @param count how many uids follow it
 */
public record UidRange(int first, int count) {
  /**
   * {@code 1879048192-1879113727} (0x70000000 + 64 Ki): above login users, Debian's {@code /etc/subuid} blocks and
   * systemd's container range (524288-1879048191), below 2^31 (systemd documents 1879048192-2147483647 as unused).
   */
  public static final UidRange DEFAULT = new UidRange(0x70000000, 65536);

  public UidRange {
    if (first < 1000 || count < 1 || (long) first + count - 1 > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("guest uid range " + first + "+" + count
          + " must lie within 1000..2147483647 and not be empty");
    }
  }

  /** The environment variable that overrides {@link #DEFAULT} for the {@code lcow.svm=uml} backend. */
  public static final String ENV = "LCOW_UML_UIDS";

  /** {@code $LCOW_UML_UIDS} ({@code FIRST-LAST}) when set, else {@link #DEFAULT}; a malformed value is an error. */
  public static UidRange configured() {
    String v = System.getenv(ENV);
    if (v == null || v.isBlank()) {
      return DEFAULT;
    }
    try {
      return parse(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(ENV + "=" + v + ": " + e.getMessage(), e);
    }
  }

  /** Parses {@code FIRST-LAST} (inclusive), e.g. {@code 1879048192-1879113727}. */
  public static UidRange parse(String s) {
    String[] f = s.strip().split("-");
    try {
      if (f.length == 2) {
        long a = Long.parseLong(f[0]);
        long b = Long.parseLong(f[1]);
        if (a <= b && b <= Integer.MAX_VALUE) {
          return new UidRange((int) a, (int) (b - a + 1));
        }
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException("guest uid range '" + s + "': expected FIRST-LAST, e.g. 1879048192-1879113727");
  }

  /** The last uid of the range. */
  public int last() {
    return first + count - 1;
  }

  @Override
  public String toString() {
    return first + "-" + last();
  }
}
