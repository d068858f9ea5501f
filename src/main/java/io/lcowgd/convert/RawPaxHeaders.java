package io.lcowgd.convert;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts the raw bytes of local PAX records ({@code typeflag 'x'}) from the header records read for one entry.
 * commons-compress decodes PAX values as UTF-8 strings, which corrupts binary values such as
 * {@code SCHILY.xattr.security.capability}; the raw bytes come from here instead.
 */
final class RawPaxHeaders {
  private RawPaxHeaders() {}

  private static final int RECORD = 512;

  private static final String XATTR = "SCHILY.xattr.";

  /** One tar entry as read: commons-compress's header and the entry's raw local PAX records. */
  record Entry(TarArchiveEntry entry, Map<String, byte[]> pax) {
    /** {@link RawPaxHeaders#xattrs} of this entry's records. */
    TreeMap<String, byte[]> xattrs() {
      return RawPaxHeaders.xattrs(pax);
    }
  }

  /** The {@code SCHILY.xattr.*} records of {@code pax} by name (the keyword without the prefix, as written). */
  static TreeMap<String, byte[]> xattrs(Map<String, byte[]> pax) {
    TreeMap<String, byte[]> out = new TreeMap<>();
    for (Map.Entry<String, byte[]> x : pax.entrySet()) {
      if (x.getKey().startsWith(XATTR)) {
        out.put(x.getKey().substring(XATTR.length()), x.getValue());
      }
    }
    return out;
  }

  /**
   * Reads the next entry of {@code tin}, which reads {@code src} (whose archive starts at position {@code start}),
   * capturing its header records to extract the raw PAX records; null at the end of the archive. Parser errors
   * propagate unwrapped for the caller to name the place.
   */
  static Entry next(TarInput src, TarArchiveInputStream tin, long start, Global global) throws IOException {
    src.startCapture();
    TarArchiveEntry e = tin.getNextEntry();
    byte[] captured = src.stopCapture();
    if (e == null) {
      return null;
    }
    long first = src.captureStart();
    int firstHeader = first < 0 ? 0 : (int) ((RECORD - (first - start) % RECORD) % RECORD);
    return new Entry(e, parse(captured, firstHeader, global));
  }

  /** What to do with a global PAX header ({@code typeflag 'g'}) among an entry's headers. */
  enum Global {
    /** Skip it (its records are not returned). */
    IGNORE,
    /** Fail: a reader that applies it would see other names and metadata than these raw records. */
    REFUSE
  }

  /**
   * Parses {@code captured} (the bytes read while the parser produced one entry), whose headers start at
   * {@code firstHeader}; returns the local PAX records by key (later records win), empty if there are none. Global
   * PAX headers are skipped or refused as {@code global} says.
   */
  private static Map<String, byte[]> parse(byte[] captured, int firstHeader, Global global) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    int off = firstHeader;
    while (off + RECORD <= captured.length) {
      verifyChecksum(captured, off);
      int type = captured[off + 156];
      long size = parseSize(captured, off + 124);
      int dataStart = off + RECORD;
      long padded = (size + RECORD - 1) / RECORD * RECORD;
      if (type == 'g' && global == Global.REFUSE) {
        throw new IOException("global PAX header (typeflag 'g') refused");
      }
      if (type == 'x') {
        if (dataStart + size > captured.length) {
          throw new IOException("truncated PAX header");
        }
        parseRecords(captured, dataStart, (int) size, out);
      } else if (type != 'g' && type != 'L' && type != 'K') {
        break; // the entry's own header
      }
      if (padded > Integer.MAX_VALUE - dataStart) {
        break;
      }
      off = (int) (dataStart + padded);
    }
    return out;
  }

  /**
   * Checks a header record's checksum (commons-compress does not): the octal value at 148 must equal the sum of the
   * record's bytes with the checksum field counted as spaces, as unsigned (POSIX) or signed (old tars) bytes.
   */
  static void verifyChecksum(byte[] h, int off) throws IOException {
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < RECORD; i++) {
      byte b = i >= 148 && i < 156 ? (byte) ' ' : h[off + i];
      unsigned += b & 0xFF;
      signed += b;
    }
    long stored = 0;
    boolean digits = false;
    for (int i = 148; i < 156; i++) {
      int c = h[off + i];
      if (c >= '0' && c <= '7') {
        stored = stored * 8 + (c - '0');
        digits = true;
      } else if (digits || (c != ' ' && c != 0)) {
        break;
      }
    }
    if (!digits || (stored != unsigned && stored != signed)) {
      throw new IOException("header checksum mismatch (stored " + stored + ", computed " + unsigned + ")");
    }
  }

  private static long parseSize(byte[] h, int at) {
    if ((h[at] & 0x80) != 0) {
      long v = 0;
      for (int i = 1; i < 12; i++) {
        v = v << 8 | (h[at + i] & 0xFF);
      }
      return v;
    }
    long v = 0;
    for (int i = 0; i < 12; i++) {
      int c = h[at + i];
      if (c >= '0' && c <= '7') {
        v = v * 8 + (c - '0');
      } else if (c == 0 || c == ' ') {
        if (v != 0) {
          break;
        }
      }
    }
    return v;
  }

  private static void parseRecords(byte[] b, int start, int len, Map<String, byte[]> out) throws IOException {
    int p = start;
    int end = start + len;
    while (p < end) {
      if (b[p] == 0) {
        break; // padding
      }
      int q = p;
      long recLen = 0;
      while (q < end && b[q] >= '0' && b[q] <= '9') {
        recLen = recLen * 10 + (b[q] - '0');
        if (recLen > len) {
          throw new IOException("bad PAX record length");
        }
        q++;
      }
      if (q >= end || b[q] != ' ' || recLen <= q - p + 1 || p + recLen > end) {
        throw new IOException("malformed PAX record");
      }
      int recEnd = (int) (p + recLen);
      int keyStart = q + 1;
      int eq = keyStart;
      while (eq < recEnd && b[eq] != '=') {
        eq++;
      }
      if (eq >= recEnd || b[recEnd - 1] != '\n') {
        throw new IOException("malformed PAX record");
      }
      String key = new String(b, keyStart, eq - keyStart, StandardCharsets.UTF_8);
      byte[] value = java.util.Arrays.copyOfRange(b, eq + 1, recEnd - 1);
      out.put(key, value);
      p = recEnd;
    }
  }
}
