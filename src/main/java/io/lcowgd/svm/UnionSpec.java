package io.lcowgd.svm;

import java.util.List;
import java.util.Objects;

/**
 * What to union-mount at {@code target}: {@code lowers} (topmost first), and for a writable union an {@code upper}
 * and {@code work} directory on the same filesystem; {@code hidden} names entries of the root directory to mask in
 * every lower (e.g. the empty {@code lost+found} of ext4 layer images). A read-only union of one lower with nothing
 * hidden is a bind mount.
 */
public record UnionSpec(String target, List<String> lowers, String upper, String work, List<String> hidden) {
  public UnionSpec {
    Objects.requireNonNull(target, "target");
    lowers = List.copyOf(lowers);
    hidden = List.copyOf(hidden);
    for (String h : hidden) {
      if (h.isEmpty() || h.contains("/") || h.equals(".") || h.equals("..")) {
        throw new IllegalArgumentException("cannot hide '" + h + "' in " + target + ": not a file name");
      }
    }
    if ((upper == null) != (work == null)) {
      throw new IllegalArgumentException("upper and work must be given together for " + target);
    }
    if (upper == null && lowers.isEmpty()) {
      throw new IllegalArgumentException("a read-only union needs at least one lower directory: " + target);
    }
    for (String p : lowers) {
      if (p.isEmpty() || p.contains(":") || p.contains(",")) {
        throw new IllegalArgumentException("lower directory " + p + " contains ':' or ',' or is empty");
      }
    }
  }

  /** A read-only union of {@code lowers}, topmost first. */
  public static UnionSpec readOnly(String target, List<String> lowers) {
    return new UnionSpec(target, lowers, null, null, List.of());
  }

  /** A writable union: changes go to {@code upper}, {@code work} is overlayfs's scratch directory. */
  public static UnionSpec writable(String target, List<String> lowers, String upper, String work) {
    return new UnionSpec(target, lowers, Objects.requireNonNull(upper), Objects.requireNonNull(work), List.of());
  }

  /** This spec with root entries {@code names} masked in every lower. */
  public UnionSpec hiding(List<String> names) {
    return new UnionSpec(target, lowers, upper, work, names);
  }

  /** Whether the union has an upper directory. */
  public boolean writable() {
    return upper != null;
  }
}
