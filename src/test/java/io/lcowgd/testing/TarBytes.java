package io.lcowgd.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Byte-level helpers for tar streams in tests: byte-for-byte comparison with a useful failure (sha-256s, first
 * differing offset and entry), and searching for a byte sequence.
 */
public final class TarBytes {
  private TarBytes() {}

  public static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Fails unless {@code actual} equals {@code expected} byte for byte. */
  public static void assertSameBytes(byte[] expected, byte[] actual, String what) {
    int n = java.util.Arrays.mismatch(expected, actual);
    if (n < 0) {
      return;
    }
    fail(what + ": tar streams differ: expected " + expected.length + " bytes sha256 " + sha256(expected) + ", got "
        + actual.length + " bytes sha256 " + sha256(actual) + "; first difference at offset " + n + " in "
        + entryAt(expected, n) + " (got: in " + entryAt(actual, n) + ")\n expected: " + context(expected, n)
        + "\n      got: " + context(actual, n));
  }

  /** Describes the tar record holding {@code off}: header offset, type and name (a PAX header shows its records). */
  public static String entryAt(byte[] tar, int off) {
    int o = 0;
    while (o + 512 <= tar.length) {
      int type = tar[o + 156];
      long size = octal(tar, o + 124, 12);
      long next = o + 512 + (type == '0' || type == 'x' || type == 'g' || type == 0 ? (size + 511) / 512 * 512 : 0);
      if (off < next) {
        String name = new String(tar, o, 100, StandardCharsets.ISO_8859_1).replace("\0", "");
        String where = "entry at " + o + " type '" + (char) type + "' name '" + name + "'";
        if (type == 'x' && o + 512 + size <= tar.length) {
          where += " PAX {" + new String(tar, o + 512, (int) size, StandardCharsets.ISO_8859_1).replace("\n", "; ")
              + "}";
        }
        return where + (off >= o + 512 ? " (data +" + (off - o - 512) + ")" : " (header +" + (off - o) + ")");
      }
      o = (int) next;
    }
    return "the end of the stream (offset " + off + " of " + tar.length + ")";
  }

  /** The first index at or after {@code from} where {@code needle} occurs in {@code hay}, or -1. */
  public static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = Math.max(0, from); i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static String context(byte[] b, int off) {
    int from = Math.max(0, off - 16);
    int to = Math.min(b.length, off + 48);
    return from >= to ? "(end)" : HexFormat.ofDelimiter(" ").formatHex(b, from, to);
  }

  private static long octal(byte[] h, int at, int len) {
    long v = 0;
    for (int i = at; i < at + len; i++) {
      int c = h[i];
      if (c >= '0' && c <= '7') {
        v = v * 8 + (c - '0');
      } else if (v != 0 || (c != ' ' && c != 0)) {
        break;
      }
    }
    return v;
  }
}
