package io.lcowgd.svm.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads {@code /proc/self/mountinfo}: the mount points of this mount namespace, with octal escapes decoded. */
final class MountTable {
  private MountTable() {}

  /** One line of mountinfo: mount point, filesystem type and source. */
  record Entry(String mountPoint, String fsType, String source) {}

  static List<Entry> read() throws IOException {
    List<Entry> out = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      int dash = -1;
      for (int i = 6; i < f.length; i++) {
        if (f[i].equals("-")) {
          dash = i;
          break;
        }
      }
      if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
        continue;
      }
      out.add(new Entry(unescape(f[4]), f[dash + 1], unescape(f[dash + 2])));
    }
    return out;
  }

  /** Mount points equal to or below {@code dir}, deepest (last mounted) first. */
  static List<String> under(Path dir) throws IOException {
    String d = dir.toString();
    List<String> hits = new ArrayList<>();
    for (Entry e : read()) {
      if (e.mountPoint().equals(d) || e.mountPoint().startsWith(d.endsWith("/") ? d : d + "/")) {
        hits.add(e.mountPoint());
      }
    }
    List<String> rev = new ArrayList<>();
    for (int i = hits.size() - 1; i >= 0; i--) {
      rev.add(hits.get(i));
    }
    return rev;
  }

  static boolean isMountPoint(String path) throws IOException {
    for (Entry e : read()) {
      if (e.mountPoint().equals(path)) {
        return true;
      }
    }
    return false;
  }

  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && isOctal(s, i + 1)) {
        sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean isOctal(String s, int at) {
    if (at + 3 > s.length()) {
      return false;
    }
    for (int i = at; i < at + 3; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '7') {
        return false;
      }
    }
    return true;
  }
}
