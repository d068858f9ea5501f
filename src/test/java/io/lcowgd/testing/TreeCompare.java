package io.lcowgd.testing;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Compares two directory trees entry by entry: names, types, permission bits, owners, mtimes (ns), sizes and
 * contents (CRC-32C) of regular files, symlink targets, device numbers, link counts and extended attributes.
 * Directory sizes and atimes/ctimes are not compared.
 */
public final class TreeCompare {
  private TreeCompare() {}

  /** What to leave out of a comparison. */
  public record Options(Set<String> ignorePaths, Set<String> ignoreMtime, boolean compareDirNlink, int contentEvery) {
    /** Ignore {@code lost+found} at the top (the writer always creates it), compare everything else. */
    public static Options defaults() {
      return new Options(Set.of("lost+found"), Set.of(), true, 1);
    }

    public Options ignoringMtimeOf(Set<String> paths) {
      return new Options(ignorePaths, paths, compareDirNlink, contentEvery);
    }

    public Options ignoring(Set<String> paths) {
      return new Options(paths, ignoreMtime, compareDirNlink, contentEvery);
    }

    /**
     * Compares the contents of only every n-th regular file (in path order; sizes are always compared): reading
     * 100k tiny files through a loop device costs ~0.2 ms each.
     */
    public Options contentOfEvery(int n) {
      return new Options(ignorePaths, ignoreMtime, compareDirNlink, n);
    }
  }

  /** One line per entry, keyed by relative path ({@code ""} for the root). */
  public static SortedMap<String, String> describe(Path root, Options opt) throws IOException {
    SortedMap<String, String> out = new TreeMap<>();
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (!isIgnored(root.relativize(p).toString(), opt.ignorePaths())) {
          paths.add(p);
        }
      }
    }
    // Visit in inode order: on an image that is also data order, so reads stay sequential (fast on loop devices).
    Map<Path, Map<String, Object>> attrs = new java.util.HashMap<>();
    for (Path p : paths) {
      attrs.put(p, Files.readAttributes(p, "unix:*", NOFOLLOW_LINKS));
    }
    paths.sort(java.util.Comparator.comparing(p -> (Long) attrs.get(p).get("ino")));
    for (Path p : paths) {
      String rel = root.relativize(p).toString();
      out.put(rel, describeOne(p, rel, opt, attrs.get(p), Xattrs.mtimeNanos(p)));
    }
    return out;
  }

  private static boolean isIgnored(String rel, Set<String> ignore) {
    for (String i : ignore) {
      if (rel.equals(i) || rel.startsWith(i + "/")) {
        return true;
      }
    }
    return false;
  }

  private static String describeOne(Path p, String rel, Options opt, Map<String, Object> a, String nanoMtime)
      throws IOException {
    int mode = (Integer) a.get("mode");
    int type = mode & 0xF000;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("type=%o perm=%04o uid=%s gid=%s", type >> 12, mode & 07777, a.get("uid"), a.get("gid")));
    if (!opt.ignoreMtime().contains(rel)) {
      sb.append(" mtime=").append(nanoMtime);
    }
    if (type != 0x4000 || opt.compareDirNlink()) {
      int nlink = (Integer) a.get("nlink");
      if (type == 0x4000) {
        // Ignored subdirectories (lost+found) would otherwise show up in their parent's link count.
        for (String i : opt.ignorePaths()) {
          String parent = i.contains("/") ? i.substring(0, i.lastIndexOf('/')) : "";
          if (!i.isEmpty() && parent.equals(rel) && Files.isDirectory(p.resolve(i.substring(parent.isEmpty() ? 0
              : parent.length() + 1)), NOFOLLOW_LINKS)) {
            nlink--;
          }
        }
      }
      sb.append(" nlink=").append(nlink);
    }
    switch (type) {
      case 0x8000 -> {
        sb.append(" size=").append(a.get("size"));
        if (opt.contentEvery() <= 1 || Math.floorMod(rel.hashCode(), opt.contentEvery()) == 0) {
          sb.append(" crc32c=").append(crc(p));
        }
      }
      case 0xA000 -> sb.append(" target=").append(Files.readSymbolicLink(p));
      case 0x2000, 0x6000 -> {
        long rdev = (Long) a.get("rdev");
        sb.append(" rdev=").append(major(rdev)).append(':').append(minor(rdev));
      }
      default -> { }
    }
    for (Map.Entry<String, byte[]> x : Xattrs.read(p).entrySet()) {
      sb.append(" xattr:").append(x.getKey()).append('=').append(HexFormat.of().formatHex(x.getValue()));
    }
    return sb.toString();
  }

  /** The major number of a Linux {@code dev_t} (glibc's {@code gnu_dev_major}). */
  public static long major(long dev) {
    return ((dev >>> 32) & 0xFFFFF000L) | ((dev >>> 8) & 0xFFF);
  }

  /** The minor number of a Linux {@code dev_t} (glibc's {@code gnu_dev_minor}). */
  public static long minor(long dev) {
    return ((dev >>> 12) & 0xFFFFFF00L) | (dev & 0xFF);
  }

  private static String crc(Path p) throws IOException {
    CRC32C c = new CRC32C();
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        c.update(buf, 0, n);
      }
    }
    return Long.toHexString(c.getValue());
  }

  /** The differences between two descriptions, one line each; empty if equal. */
  public static List<String> diff(SortedMap<String, String> expected, SortedMap<String, String> actual) {
    List<String> d = new ArrayList<>();
    for (Map.Entry<String, String> e : expected.entrySet()) {
      String a = actual.get(e.getKey());
      if (a == null) {
        d.add("missing: /" + e.getKey() + " (" + e.getValue() + ")");
      } else if (!a.equals(e.getValue())) {
        d.add("differs: /" + e.getKey() + "\n   expected " + e.getValue() + "\n   actual   " + a);
      }
    }
    for (String k : actual.keySet()) {
      if (!expected.containsKey(k)) {
        d.add("unexpected: /" + k + " (" + actual.get(k) + ")");
      }
    }
    return d;
  }

  /** Asserts that the trees at {@code expected} and {@code actual} are equal. */
  public static void assertSameTree(Path expected, Path actual, Options opt) throws IOException {
    List<String> d = diff(describe(expected, opt), describe(actual, opt));
    if (!d.isEmpty()) {
      throw new AssertionError(d.size() + " differences between " + expected + " and " + actual + ":\n"
          + String.join("\n", d.subList(0, Math.min(40, d.size()))));
    }
  }
}
