package io.lcowgd.testing;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
 * contents (SHA-256) of regular files, symlink targets, device numbers, link counts and extended attributes.
 * Directory sizes and atimes/ctimes are not compared.
 */
public final class TreeCompare {
  private TreeCompare() {}

  /** What to leave out of a comparison. */
  public record Options(Set<String> ignorePaths, Set<String> ignoreMtime, boolean compareDirNlink) {
    /** Ignore {@code lost+found} at the top (the writer always creates it), compare everything else. */
    public static Options defaults() {
      return new Options(Set.of("lost+found"), Set.of(), true);
    }

    public Options ignoringMtimeOf(Set<String> paths) {
      return new Options(ignorePaths, paths, compareDirNlink);
    }

    public Options ignoring(Set<String> paths) {
      return new Options(paths, ignoreMtime, compareDirNlink);
    }
  }

  /** One line per entry, keyed by relative path ({@code ""} for the root). */
  public static SortedMap<String, String> describe(Path root, Options opt) throws IOException {
    SortedMap<String, String> out = new TreeMap<>();
    Map<String, String> mtimes = nanoMtimes(root);
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String rel = root.relativize(p).toString();
        if (isIgnored(rel, opt.ignorePaths())) {
          continue;
        }
        out.put(rel, describeOne(p, rel, opt, mtimes.get(rel)));
      }
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

  /** mtimes with full nanoseconds (the JDK rounds to 100 ns), from GNU find. */
  private static Map<String, String> nanoMtimes(Path root) throws IOException {
    Map<String, String> m = new java.util.HashMap<>();
    try {
      String out = E2fsck.Procs.check(java.util.List.of("find", root.toString(), "-printf", "%P\\t%T@\\n"));
      for (String line : out.split("\n")) {
        int tab = line.lastIndexOf('\t');
        if (tab >= 0) {
          m.put(line.substring(0, tab), line.substring(tab + 1));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return m;
  }

  private static String describeOne(Path p, String rel, Options opt, String nanoMtime) throws IOException {
    Map<String, Object> a = Files.readAttributes(p, "unix:*", NOFOLLOW_LINKS);
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
      case 0x8000 -> sb.append(" size=").append(a.get("size")).append(" sha256=").append(sha256(p));
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

  static long major(long dev) {
    return ((dev >>> 32) & 0xFFFFF000L) | ((dev >>> 8) & 0xFFF);
  }

  static long minor(long dev) {
    return ((dev >>> 12) & 0xFFFFFF00L) | (dev & 0xFF);
  }

  private static String sha256(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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
