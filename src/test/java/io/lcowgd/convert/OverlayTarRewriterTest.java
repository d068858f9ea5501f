package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.TarBytes;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The host-side re-emit of a guest's GNU tar, on hand-made streams shaped like GNU tar 1.34's {@code --format=pax}
 * output ({@code ./} names, raw PAX records, {@code %3D}-escaped xattr keys, links without xattrs, devices and fifos
 * written in full), checked with the independent {@link RawTar} reader.
 */
class OverlayTarRewriterTest {
  private static final byte[] CAP = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

  @Test
  void reEmitsGnuTarEntriesWithTheSandboxExportsTranslation() throws IOException {
    GnuTar t = new GnuTar();
    t.entry("./", '5', 0755, 0, 0, 0, 1000, "", 0, 0, pax("mtime", "1000.5"));
    t.entry("./d/", '5', 01777, 0, 0, 0, 0, "", 0, 0, pax("mtime", "-1.5", "SCHILY.xattr.trusted.overlay.opaque", "y",
        "SCHILY.xattr.trusted.overlay.origin", "\u0000\u00fb", "SCHILY.xattr.user.a%25b", "1"));
    t.entry("./d/gone", '3', 0, 5, 6, 0, 77, "", 0, 0, pax("mtime", "77.000000001"));
    t.entry("./d/gone2", '3', 0, 5, 6, 0, 77, "", 0, 0, pax("mtime", "77.000000001"));
    byte[] data = "hi".getBytes(StandardCharsets.US_ASCII);
    t.entry("./f", '0', 04750, 07777777, 9, 2, 12, "", 0, 0, pax("uid", "3000000", "mtime", "12.25",
        "SCHILY.xattr.security.capability", new String(CAP, StandardCharsets.ISO_8859_1)));
    t.data(data);
    t.entry("./h", '1', 04750, 07777777, 9, 0, 12, "./f", 0, 0, pax("uid", "3000000", "mtime", "12.25"));
    t.entry("./p", '6', 0644, 0, 0, 0, 3, "", 0, 0, pax("SCHILY.xattr.user.p", "v"));
    t.entry("./p2", '6', 0644, 0, 0, 0, 3, "", 0, 0, pax("SCHILY.xattr.user.p", "v"));
    t.entry("./s", '2', 0777, 0, 0, 0, 4, "", 0, 0, pax("linkpath", "t\u00e9", "SCHILY.xattr.trusted.s", "x"));
    t.entry("./s2", '1', 0777, 0, 0, 0, 4, "./s", 0, 0, Map.of());
    t.entry("./caf", '0', 0644, 0, 0, 0, 5, "", 0, 0, pax("path", "./caf\u00e9"));
    t.entry("./z", '4', 0600, 0, 0, 0, 6, "", 7, 200, Map.of());
    Map<String, Long> links = Map.of("d/gone", 13L, "d/gone2", 13L, "f", 10L, "h", 10L, "p", 12L, "p2", 12L,
        "s", 11L, "s2", 11L);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = OverlayTarRewriter.rewrite(new ByteArrayInputStream(t.finish()), links,
        OverlayTarRewriter.RootLostFound.KEEP, out);
    assertEquals(2, n);
    List<String> got = new ArrayList<>();
    List<RawTar.Entry> entries = RawTar.read(out.toByteArray());
    for (RawTar.Entry e : entries) {
      StringBuilder x = new StringBuilder();
      e.xattrs().forEach((k, v) -> x.append(' ').append(k).append('=').append(java.util.HexFormat.of().formatHex(v)));
      got.add(e.name() + " " + e.type() + " " + Integer.toOctalString(e.mode()) + " " + e.uid() + ":" + e.gid() + " "
          + e.mtime() + " " + e.size() + " " + e.link() + " " + e.devMajor() + "," + e.devMinor() + x);
    }
    String cap = java.util.HexFormat.of().formatHex(CAP);
    assertEquals(List.of(
        // the xattr key is "user.a%b" (GNU tar's %25 escape undone)
        "d/ 5 41777 0:0 1969-12-31T23:59:58.500Z 0  0,0 user.a%b=31",
        "d/.wh..wh..opq 0 101777 0:0 1969-12-31T23:59:58.500Z 0  0,0",
        "d/.wh.gone 0 100600 5:6 1970-01-01T00:01:17.000000001Z 0  0,0",
        "d/.wh.gone2 0 100600 5:6 1970-01-01T00:01:17.000000001Z 0  0,0",
        "f 0 104750 3000000:9 1970-01-01T00:00:12.250Z 2  0,0 security.capability=" + cap,
        "h 1 104750 3000000:9 1970-01-01T00:00:12.250Z 0 f 0,0 security.capability=" + cap,
        "p 6 10644 0:0 1970-01-01T00:00:03Z 0  0,0 user.p=76",
        "p2 1 100644 0:0 1970-01-01T00:00:03Z 0 p 0,0 user.p=76",
        "s 2 120777 0:0 1970-01-01T00:00:04Z 0 t\ufffd 0,0 trusted.s=78",
        "s2 2 120777 0:0 1970-01-01T00:00:04Z 0 t\ufffd 0,0 trusted.s=78",
        "caf\ufffd 0 100644 0:0 1970-01-01T00:00:05Z 0  0,0",
        "z 4 60600 0:0 1970-01-01T00:00:06Z 0  7,200"), got);
    byte[] bytes = out.toByteArray();
    assertTrue(TarBytes.indexOf(bytes, "path=caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1), 0) > 0,
        "raw name byte kept");
    assertTrue(TarBytes.indexOf(bytes, "linkpath=t\u00e9\n".getBytes(StandardCharsets.ISO_8859_1), 0) > 0,
        "raw link byte kept");
    assertArrayEquals(CAP, entries.get(4).xattrs().get("security.capability"));
  }

  @Test
  void anXattrNameWithAnEqualsSignFailsAsOnTheHostExport() {
    GnuTar t = new GnuTar();
    t.entry("./", '5', 0755, 0, 0, 0, 1, "", 0, 0, Map.of());
    t.entry("./d/", '5', 0755, 0, 0, 0, 1, "", 0, 0, pax("SCHILY.xattr.user.a%3Db%25", "1"));
    IOException e = assertThrows(LayerTarException.class, () -> OverlayTarRewriter.rewrite(
        new ByteArrayInputStream(t.finish()), Map.of(), OverlayTarRewriter.RootLostFound.KEEP,
        new ByteArrayOutputStream()));
    assertTrue(e.getMessage().contains("tar entry d/: xattr name user.a=b% contains '='"), e.getMessage());
  }

  @Test
  void dropsOnlyAnEmptyRootLostFoundAndRefusesLinksTheListingDoesNotKnow() throws IOException {
    GnuTar t = new GnuTar();
    t.entry("./", '5', 0755, 0, 0, 0, 1, "", 0, 0, Map.of());
    t.entry("./lost+found/", '5', 0700, 0, 0, 0, 1, "", 0, 0, Map.of());
    t.entry("./m/", '5', 0755, 0, 0, 0, 1, "", 0, 0, Map.of());
    byte[] in = t.finish();
    assertEquals(List.of("m/"), names(in, OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY));
    assertEquals(List.of("lost+found/", "m/"), names(in, OverlayTarRewriter.RootLostFound.KEEP));
    GnuTar full = new GnuTar();
    full.entry("./lost+found/", '5', 0700, 0, 0, 0, 1, "", 0, 0, Map.of());
    full.entry("./lost+found/#12", '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    assertEquals(List.of("lost+found/", "lost+found/#12"), names(full.finish(),
        OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY));

    GnuTar bad = new GnuTar();
    bad.entry("./a", '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    bad.entry("./b", '1', 0644, 0, 0, 0, 1, "./a", 0, 0, Map.of());
    IOException e = assertThrows(IOException.class, () -> OverlayTarRewriter.rewrite(
        new ByteArrayInputStream(bad.finish()), Map.of(), OverlayTarRewriter.RootLostFound.KEEP,
        new ByteArrayOutputStream()));
    assertTrue(e.getMessage().contains("tar entry b links to a"), e.getMessage());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"-1.5, -2, 500000000", "-0.5, -1, 500000000",
      "77.000000001, 77, 1", "-315619199.876543211, -315619200, 123456789", "10413792000.25, 10413792000, 250000000",
      "5.1234567899, 5, 123456789", "5.1, 5, 100000000", "-1, -1, 0"})
  void reEmitsPaxMtimesToTheNanosecond(String pax, long sec, int nanos) throws IOException {
    GnuTar t = new GnuTar();
    t.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax("mtime", pax));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OverlayTarRewriter.rewrite(new ByteArrayInputStream(t.finish()), Map.of(), OverlayTarRewriter.RootLostFound.KEEP,
        out);
    assertEquals(Instant.ofEpochSecond(sec, nanos), RawTar.read(out.toByteArray()).get(0).mtime());
  }

  @Test
  void refusesAMalformedPaxMtimeAndUndoesXattrKeyEscapes() {
    GnuTar t = new GnuTar();
    t.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax("mtime", "1e5"));
    assertThrows(IOException.class, () -> OverlayTarRewriter.rewrite(new ByteArrayInputStream(t.finish()), Map.of(),
        OverlayTarRewriter.RootLostFound.KEEP, new ByteArrayOutputStream()));
    assertEquals("user.a=b%c%3", OverlayTarRewriter.decodeXattrKey("user.a%3Db%25c%3"));
  }

  private static List<String> names(byte[] in, OverlayTarRewriter.RootLostFound mode) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OverlayTarRewriter.rewrite(new ByteArrayInputStream(in), Map.of(), mode, out);
    return RawTar.read(out.toByteArray()).stream().map(RawTar.Entry::name).toList();
  }

  /** PAX records from key/value pairs (values one char per byte). */
  static Map<String, String> pax(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Writes tar bytes the way GNU tar's pax format lays them out: a 'x' header (PaxHeaders name) before an entry. */
  static final class GnuTar {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void entry(String name, char type, int mode, long uid, long gid, long size, long mtime, String link, int major,
        int minor, Map<String, String> pax) {
      if (!pax.isEmpty()) {
        paxHeader('x', "./PaxHeaders/" + name.replace("./", ""), pax);
      }
      header(name, type, mode, uid, gid, size, Math.max(mtime, 0), link, major, minor);
    }

    /** A PAX header of {@code type} ('x' local, 'g' global) carrying {@code pax}. */
    void paxHeader(char type, String name, Map<String, String> pax) {
      Map<String, byte[]> raw = new java.util.LinkedHashMap<>();
      pax.forEach((k, v) -> raw.put(k, v.getBytes(StandardCharsets.ISO_8859_1)));
      byte[] rec = TarFixtures.paxRecords(raw);
      header(name, type, 0644, 0, 0, rec.length, 0, "", 0, 0);
      data(rec);
    }

    /** The bytes so far, without an end-of-archive marker (a truncated archive). */
    byte[] truncated() {
      return out.toByteArray();
    }

    void data(byte[] d) {
      out.writeBytes(d);
      out.writeBytes(new byte[(512 - d.length % 512) % 512]);
    }

    private void header(String name, char type, int mode, long uid, long gid, long size, long mtime, String link,
        int major, int minor) {
      byte[] h = new byte[512];
      put(h, 0, 100, name);
      put(h, 100, 8, String.format("%07o", mode));
      put(h, 108, 8, String.format("%07o", uid));
      put(h, 116, 8, String.format("%07o", gid));
      put(h, 124, 12, String.format("%011o", size));
      put(h, 136, 12, String.format("%011o", mtime));
      h[156] = (byte) type;
      put(h, 157, 100, link);
      put(h, 257, 8, "ustar\u000000");
      put(h, 329, 8, String.format("%07o", major));
      put(h, 337, 8, String.format("%07o", minor));
      put(h, 148, 8, "        ");
      int sum = 0;
      for (byte b : h) {
        sum += b & 0xFF;
      }
      put(h, 148, 8, String.format("%06o\u0000 ", sum));
      out.writeBytes(h);
    }

    private static void put(byte[] h, int at, int len, String s) {
      byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
      System.arraycopy(b, 0, h, at, Math.min(len, b.length));
    }

    byte[] finish() {
      out.writeBytes(new byte[1024]);
      return out.toByteArray();
    }
  }
}
