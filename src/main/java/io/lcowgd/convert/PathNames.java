package io.lcowgd.convert;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Cleans tar entry names the way Docker's layer unpacker does: names count from the layer root (a leading
 * {@code /} or {@code ./} changes nothing), {@code .} and empty components vanish, {@code ..} removes the previous
 * component, and a name that climbs above the root is rejected.
 */
final class PathNames {
  private PathNames() {}

  /**
   * The cleaned relative path ({@code ""} for the root), or null if {@code name} climbs out of the root.
   */
  static String clean(String name) {
    Deque<String> parts = new ArrayDeque<>();
    for (String c : name.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (parts.isEmpty()) {
          return null;
        }
        parts.removeLast();
      } else {
        parts.addLast(c);
      }
    }
    return String.join("/", parts);
  }

  /** The parent of a cleaned path ({@code ""} for top-level names). */
  static String parent(String clean) {
    int i = clean.lastIndexOf('/');
    return i < 0 ? "" : clean.substring(0, i);
  }

  /** The last component of a cleaned path. */
  static String base(String clean) {
    return clean.substring(clean.lastIndexOf('/') + 1);
  }

  /** Joins a cleaned directory and a name. */
  static String join(String dir, String name) {
    return dir.isEmpty() ? name : dir + "/" + name;
  }
}
