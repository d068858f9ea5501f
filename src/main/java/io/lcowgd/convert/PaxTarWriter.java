package io.lcowgd.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes tar entries through commons-compress with one PAX extended header per entry that needs it (long or non-ASCII
 * path and link path, big sizes and ids, nanosecond or out-of-range mtimes, {@code SCHILY.xattr.*}). The PAX records
 * are built here as raw bytes because commons-compress encodes PAX values as UTF-8 text, which would corrupt binary
 * xattr values such as {@code security.capability}; the ustar header itself never makes commons-compress add a second
 * PAX header (names are truncated there, numbers use star base-256, atime/ctime are unset).
 */
final class PaxTarWriter implements java.io.Closeable {
  private static final long MAX_OCTAL_11 = 077777777777L;
  private static final long MAX_OCTAL_7 = 07777777L;

  private final TarArchiveOutputStream tar;
  private long paxCount;
  private long dataBytes;

  PaxTarWriter(OutputStream out) {
    tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_TRUNCATE);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
    tar.setAddPaxHeadersForNonAsciiNames(false);
  }

  /**
   * Metadata of one entry; {@code mode} holds permission bits (type bits are added from {@code type}); {@code name}
   * and {@code linkName} carry raw bytes, one char per byte (ISO-8859-1).
   */
  record Header(String name, byte type, int mode, long uid, long gid, long size, Instant mtime, String linkName,
      int devMajor, int devMinor, Map<String, byte[]> xattrs) {}

  /**
   * Writes the header (and PAX header if needed); for a regular file the caller then writes exactly size bytes.
   * Fails, before writing anything, with a {@link LayerTarException} for an xattr name containing {@code =}.
   */
  OutputStream begin(Header h) throws IOException {
    for (String k : h.xattrs.keySet()) {
      if (k.indexOf('=') >= 0) {
        throw new LayerTarException("tar entry " + display(h.name) + ": xattr name " + k + " contains '=',"
            + " which a PAX SCHILY.xattr record cannot carry (readers split the record at the first '=')");
      }
    }
    ByteArrayOutputStream pax = new ByteArrayOutputStream();
    byte[] nameBytes = h.name.getBytes(StandardCharsets.ISO_8859_1);
    if (nameBytes.length > 100 || !isAscii(h.name)) {
      record(pax, "path", nameBytes);
    }
    if (h.linkName != null) {
      byte[] lb = h.linkName.getBytes(StandardCharsets.ISO_8859_1);
      if (lb.length > 100 || !isAscii(h.linkName)) {
        record(pax, "linkpath", lb);
      }
    }
    if (h.size > MAX_OCTAL_11) {
      record(pax, "size", Long.toString(h.size).getBytes(StandardCharsets.US_ASCII));
    }
    if (h.uid > MAX_OCTAL_7) {
      record(pax, "uid", Long.toString(h.uid).getBytes(StandardCharsets.US_ASCII));
    }
    if (h.gid > MAX_OCTAL_7) {
      record(pax, "gid", Long.toString(h.gid).getBytes(StandardCharsets.US_ASCII));
    }
    long sec = h.mtime.getEpochSecond();
    if (h.mtime.getNano() != 0 || sec < 0 || sec > MAX_OCTAL_11) {
      record(pax, "mtime", paxTime(h.mtime).getBytes(StandardCharsets.US_ASCII));
    }
    for (Map.Entry<String, byte[]> x : h.xattrs.entrySet()) {
      record(pax, "SCHILY.xattr." + x.getKey(), x.getValue());
    }
    if (pax.size() > 0) {
      String pname = "PaxHeaders.0/" + ascii7(h.name);
      if (pname.length() > 99) {
        pname = pname.substring(0, 99);
      }
      TarArchiveEntry pe = new TarArchiveEntry(pname, TarConstants.LF_PAX_EXTENDED_HEADER_LC);
      pe.setSize(pax.size());
      pe.setModTime(FileTime.from(Math.max(0, Math.min(sec, MAX_OCTAL_11)), java.util.concurrent.TimeUnit.SECONDS));
      pe.setUserName("");
      pe.setGroupName("");
      tar.putArchiveEntry(pe);
      pax.writeTo(tar);
      tar.closeArchiveEntry();
      paxCount++;
    }
    TarArchiveEntry e = new TarArchiveEntry(truncate(h.name), h.type);
    e.setMode(h.mode | typeBits(h.type));
    e.setUserId(Math.min(h.uid, MAX_OCTAL_7));
    e.setGroupId(Math.min(h.gid, MAX_OCTAL_7));
    e.setUserName("");
    e.setGroupName("");
    e.setModTime(FileTime.from(Math.max(0, Math.min(sec, MAX_OCTAL_11)), java.util.concurrent.TimeUnit.SECONDS));
    if (h.type == TarConstants.LF_NORMAL) {
      e.setSize(h.size);
      dataBytes += h.size;
    }
    if (h.linkName != null) {
      e.setLinkName(truncate(h.linkName));
    }
    if (h.type == TarConstants.LF_CHR || h.type == TarConstants.LF_BLK) {
      e.setDevMajor(h.devMajor);
      e.setDevMinor(h.devMinor);
    }
    tar.putArchiveEntry(e);
    return tar;
  }

  /** Ends the current entry (after its data). */
  void end() throws IOException {
    tar.closeArchiveEntry();
  }

  /** Sum of the sizes of all regular-file entries written so far (what a layer's ApplyDiff size counts). */
  long dataBytes() {
    return dataBytes;
  }

  /** Writes the end-of-archive marker and flushes; the underlying stream stays open. */
  void finish() throws IOException {
    tar.finish();
    tar.flush();
  }

  @Override
  public void close() throws IOException {
    tar.close();
  }

  private static int typeBits(byte type) {
    switch (type) {
      case TarConstants.LF_DIR:
        return 040000;
      case TarConstants.LF_SYMLINK:
        return 0120000;
      case TarConstants.LF_CHR:
        return 020000;
      case TarConstants.LF_BLK:
        return 060000;
      case TarConstants.LF_FIFO:
        return 010000;
      default:
        return 0100000;
    }
  }

  /** Formats a PAX time as Go's archive/tar does: seconds, then up to nine fraction digits without trailing zeros. */
  static String paxTime(Instant t) {
    long sec = t.getEpochSecond();
    int nano = t.getNano();
    String sign = "";
    if (sec < 0 && nano > 0) {
      sign = "-";
      sec = -(sec + 1);
      nano = 1_000_000_000 - nano;
    } else if (sec < 0) {
      sign = "-";
      sec = -sec;
    }
    String s = sign + sec;
    if (nano != 0) {
      String f = String.format("%09d", nano);
      int end = f.length();
      while (f.charAt(end - 1) == '0') {
        end--;
      }
      s += "." + f.substring(0, end);
    }
    return s;
  }

  private static void record(ByteArrayOutputStream pax, String key, byte[] value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    int body = 1 + k.length + 1 + value.length + 1;
    int len = body + Integer.toString(body).length();
    if (Integer.toString(len).length() != Integer.toString(body).length()) {
      len = body + Integer.toString(len).length();
    }
    pax.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
    pax.writeBytes(k);
    pax.write('=');
    pax.writeBytes(value);
    pax.write('\n');
  }

  /** A raw-byte name (one char per byte) decoded as UTF-8, for error messages. */
  static String display(String raw) {
    return new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80 || c == 0) {
        return false;
      }
    }
    return true;
  }

  private static String ascii7(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length() && b.length() < 100; i++) {
      char c = s.charAt(i);
      b.append(c < 0x80 && c != 0 ? c : '_');
    }
    return b.toString();
  }

  private static String truncate(String s) {
    if (s.length() <= 100 && isAscii(s)) {
      return s;
    }
    return ascii7(s.length() > 100 ? s.substring(0, 100) : s);
  }
}
