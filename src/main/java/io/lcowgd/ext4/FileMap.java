package io.lcowgd.ext4;

import java.util.Arrays;

/**
 * The block mapping of one file, in ascending logical order: runs of {@code length} blocks starting at logical block
 * {@code logical} stored at physical block {@code physical}; uninitialised runs read as zeros. Logical blocks not
 * covered by a run are holes.
 */
final class FileMap {
  private long[] logical = new long[4];
  private long[] physical = new long[4];
  private int[] length = new int[4];
  private boolean[] uninit = new boolean[4];
  private int count;

  /** Appends a run; callers guarantee ascending, non-overlapping logical ranges. Adjacent runs are merged. */
  void add(long lblk, long pblk, int len, boolean uninitialised) {
    if (count > 0) {
      int last = count - 1;
      if (logical[last] + length[last] == lblk && physical[last] + length[last] == pblk
          && uninit[last] == uninitialised && (long) length[last] + len <= Integer.MAX_VALUE) {
        length[last] += len;
        return;
      }
    }
    if (count == logical.length) {
      int n = count * 2;
      logical = Arrays.copyOf(logical, n);
      physical = Arrays.copyOf(physical, n);
      length = Arrays.copyOf(length, n);
      uninit = Arrays.copyOf(uninit, n);
    }
    logical[count] = lblk;
    physical[count] = pblk;
    length[count] = len;
    uninit[count] = uninitialised;
    count++;
  }

  int count() {
    return count;
  }

  long logical(int i) {
    return logical[i];
  }

  long physical(int i) {
    return physical[i];
  }

  int length(int i) {
    return length[i];
  }

  boolean uninit(int i) {
    return uninit[i];
  }

  /** The physical block of logical block {@code lblk}, or -1 for a hole or an uninitialised block. */
  long lookup(long lblk) {
    int lo = 0;
    int hi = count - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (logical[mid] > lblk) {
        hi = mid - 1;
      } else if (logical[mid] + length[mid] <= lblk) {
        lo = mid + 1;
      } else {
        return uninit[mid] ? -1 : physical[mid] + (lblk - logical[mid]);
      }
    }
    return -1;
  }
}
