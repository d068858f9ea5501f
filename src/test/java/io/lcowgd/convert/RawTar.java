package io.lcowgd.convert;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal, independent tar reader for tests (ustar headers, octal and base-256 numbers, PAX records kept as raw
 * bytes), so binary {@code SCHILY.xattr.*} values can be checked byte for byte.
 */
final class RawTar {
  private RawTar() {}

  record Entry(String name, char type, int mode, long uid, long gid, long size, Instant mtime, String link,
      int devMajor, int devMinor, Map<String, byte[]> xattrs, String digest) {}

  static List<Entry> read(byte[] tar) throws IOException {
    return read(new ByteArrayInputStream(tar));
  }

  /** Reads every entry; regular-file data is digested while streaming, never held in memory. */
  static List<Entry> read(InputStream in) throws IOException {
    List<Entry> out = new ArrayList<>();
    Map<String, byte[]> pax = new TreeMap<>();
    byte[] h = new byte[512];
    while (true) {
      readFully(in, h);
      if (allZero(h)) {
        return out;
      }
      verifyChecksum(h);
      char type = (char) (h[156] == 0 ? '0' : h[156]);
      long size = num(h, 124, 12);
      if (type == 'x' || type == 'g') {
        byte[] data = new byte[(int) size];
        readFully(in, data);
        in.skipNBytes((512 - size % 512) % 512);
        if (type == 'x') {
          pax.putAll(parsePax(data)); // consecutive local headers merge, later records win
        }
        continue;
      }
      String digest = "";
      if (type == '0') {
        java.security.MessageDigest md;
        try {
          md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
          throw new IOException(e);
        }
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
          int n = in.read(buf, 0, (int) Math.min(buf.length, left));
          if (n < 0) {
            throw new EOFException("truncated tar data");
          }
          md.update(buf, 0, n);
          left -= n;
        }
        digest = java.util.HexFormat.of().formatHex(md.digest());
      } else {
        in.skipNBytes(size);
      }
      in.skipNBytes((512 - size % 512) % 512);
      String name = str(h, 0, 100);
      String prefix = str(h, 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
      String link = str(h, 157, 100);
      long uid = num(h, 108, 8);
      long gid = num(h, 116, 8);
      Instant mtime = Instant.ofEpochSecond(num(h, 136, 12));
      Map<String, byte[]> xattrs = new TreeMap<>();
      for (Map.Entry<String, byte[]> p : pax.entrySet()) {
        String v = new String(p.getValue(), StandardCharsets.UTF_8);
        switch (p.getKey()) {
          case "path" -> name = v;
          case "linkpath" -> link = v;
          case "uid" -> uid = Long.parseLong(v);
          case "gid" -> gid = Long.parseLong(v);
          case "size" -> throw new IOException("PAX size not supported by this test reader");
          case "mtime" -> mtime = parseTime(v);
          default -> {
            if (p.getKey().startsWith("SCHILY.xattr.")) {
              xattrs.put(p.getKey().substring(13), p.getValue());
            }
          }
        }
      }
      pax = new TreeMap<>();
      out.add(new Entry(name, type, (int) num(h, 100, 8), uid, gid, size, mtime, link, (int) num(h, 329, 8),
          (int) num(h, 337, 8), xattrs, digest));
    }
  }

  private static Instant parseTime(String v) {
    boolean neg = v.startsWith("-");
    String[] parts = (neg ? v.substring(1) : v).split("\\.");
    long sec = Long.parseLong(parts[0]);
    long nano = parts.length > 1 ? Long.parseLong((parts[1] + "000000000").substring(0, 9)) : 0;
    return neg ? Instant.ofEpochSecond(-sec, -nano) : Instant.ofEpochSecond(sec, nano);
  }

  private static Map<String, byte[]> parsePax(byte[] d) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    int p = 0;
    while (p < d.length) {
      int sp = p;
      while (d[sp] != ' ') {
        sp++;
      }
      int len = Integer.parseInt(new String(d, p, sp - p, StandardCharsets.US_ASCII));
      int eq = sp + 1;
      while (d[eq] != '=') {
        eq++;
      }
      if (d[p + len - 1] != '\n') {
        throw new IOException("bad PAX record length at " + p);
      }
      m.put(new String(d, sp + 1, eq - sp - 1, StandardCharsets.UTF_8),
          java.util.Arrays.copyOfRange(d, eq + 1, p + len - 1));
      p += len;
    }
    return m;
  }

  private static void verifyChecksum(byte[] h) throws IOException {
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : h[i] & 0xFF;
    }
    if (sum != num(h, 148, 8)) {
      throw new IOException("tar header checksum mismatch for " + str(h, 0, 100));
    }
  }

  private static long num(byte[] h, int off, int len) {
    if ((h[off] & 0x80) != 0) {
      long v = h[off] & 0x7F;
      for (int i = 1; i < len; i++) {
        v = (v << 8) | (h[off + i] & 0xFF);
      }
      return v;
    }
    String s = str(h, off, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }

  private static String str(byte[] h, int off, int len) {
    int end = off;
    while (end < off + len && h[end] != 0) {
      end++;
    }
    return new String(h, off, end - off, StandardCharsets.UTF_8);
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static void readFully(InputStream in, byte[] b) throws IOException {
    if (in.readNBytes(b, 0, b.length) != b.length) {
      throw new EOFException("truncated tar");
    }
  }
}
