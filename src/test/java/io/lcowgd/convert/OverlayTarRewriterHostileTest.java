package io.lcowgd.convert;

import static io.lcowgd.convert.OverlayTarRewriterTest.pax;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.convert.OverlayTarRewriterTest.GnuTar;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile guest tars given to {@link OverlayTarRewriter}: names or link targets that climb out of the tree, global
 * PAX headers, sparse entries, data shorter than the header says, a regular file repeating an inode: each fails with
 * one clear line naming the entry instead of reaching the layer tar.
 */
class OverlayTarRewriterHostileTest {
  private static String fails(byte[] tar, Map<String, Long> links, String... mustContain) {
    IOException e = assertThrows(IOException.class, () -> OverlayTarRewriter.rewrite(new ByteArrayInputStream(tar),
        links, OverlayTarRewriter.RootLostFound.KEEP, new ByteArrayOutputStream()));
    String msg = e.getMessage();
    assertFalse(msg.contains("\n"), "one line: " + msg);
    for (String s : mustContain) {
      assertTrue(msg.contains(s), "message '" + msg + "' should contain '" + s + "'");
    }
    return msg;
  }

  private static GnuTar root() {
    GnuTar t = new GnuTar();
    t.entry("./", '5', 0755, 0, 0, 0, 1, "", 0, 0, Map.of());
    return t;
  }

  @ParameterizedTest
  @ValueSource(strings = {"./a/../../../etc/cron.d/x", "../x", "./..", "a/./b", "a//b", "/../x", "a/b/..", "./a/."})
  void namesWithDotDotOrEmptyComponentsAreRefused(String name) {
    GnuTar t = root();
    t.entry(name, '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    fails(t.finish(), Map.of(), "tar entry", "not a clean relative path");
  }

  @Test
  void aClimbingNameInAPaxPathRecordIsRefused() {
    GnuTar t = root();
    t.entry("./ok", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax("path", "./a/../../../etc/passwd"));
    fails(t.finish(), Map.of(), "a/../../../etc/passwd", "not a clean relative path");
  }

  @Test
  void hardLinkTargetsThatClimbOutAreRefused() {
    GnuTar t = root();
    t.entry("./h", '1', 0644, 0, 0, 0, 1, "./a/../../../etc/shadow", 0, 0, Map.of());
    fails(t.finish(), Map.of("h", 5L), "tar entry h", "a/../../../etc/shadow", "not a clean relative path");
  }

  @Test
  void globalPaxHeadersAreRefused() {
    GnuTar t = root();
    t.paxHeader('g', "./GlobalHead.0", pax("path", "../evil"));
    t.entry("./a", '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    fails(t.finish(), Map.of(), "global PAX header");
  }

  @Test
  void sparseEntriesAreRefused() {
    GnuTar t = root();
    t.entry("./s", '0', 0644, 0, 0, 512, 1, "", 0, 0, pax("GNU.sparse.major", "1", "GNU.sparse.minor", "0",
        "GNU.sparse.name", "./s", "GNU.sparse.realsize", "0"));
    t.data("1\n0\n0\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    fails(t.finish(), Map.of(), "tar entry", "sparse");
  }

  @Test
  void dataShorterThanTheHeaderSaysIsRefused() {
    GnuTar t = root();
    t.entry("./f", '0', 0644, 0, 0, 4096, 1, "", 0, 0, Map.of());
    t.data(new byte[100]);
    fails(t.truncated(), Map.of(), "tar entry f");
  }

  @Test
  void xattrsBeyondLinuxsLimitsAreRefused() throws IOException {
    GnuTar ok = root();
    ok.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax("SCHILY.xattr.user.v", "v".repeat(65536)));
    OverlayTarRewriter.rewrite(new ByteArrayInputStream(ok.finish()), Map.of(), OverlayTarRewriter.RootLostFound.KEEP,
        new ByteArrayOutputStream());
    GnuTar big = root();
    big.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax("SCHILY.xattr.user.v", "v".repeat(65537)));
    fails(big.finish(), Map.of(), "tar entry f", "xattr user.v", "65537-byte value");
    GnuTar many = root();
    String[] kv = new String[2 * 300];
    for (int i = 0; i < 300; i++) {
      kv[2 * i] = "SCHILY.xattr.user." + String.format("%03d", i) + "n".repeat(220);
      kv[2 * i + 1] = "1";
    }
    many.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax(kv));
    fails(many.finish(), Map.of(), "tar entry f", "bytes of names");
  }

  @Test
  void aSourceFailingAfterTheEndOfArchiveLeavesTheOutputWithoutItsEndMarker() throws IOException {
    GnuTar t = root();
    t.entry("./f", '0', 0644, 0, 0, 5, 1, "", 0, 0, Map.of());
    t.data("data\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    byte[] tar = java.util.Arrays.copyOf(t.finish(), 5 * 65536); // GNU tar -b 128 pads to 64 KiB blocks
    ByteArrayOutputStream full = new ByteArrayOutputStream();
    OverlayTarRewriter.rewrite(new ByteArrayInputStream(tar), Map.of(), OverlayTarRewriter.RootLostFound.KEEP, full);
    InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(tar), new InputStream() {
      @Override
      public int read() throws IOException {
        throw new IOException("tar exited with status 2");
      }
    });
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IOException e = assertThrows(IOException.class, () -> OverlayTarRewriter.rewrite(failing, Map.of(),
        OverlayTarRewriter.RootLostFound.KEEP, out));
    assertTrue(e.getMessage().contains("status 2"), e.getMessage());
    byte[] got = out.toByteArray();
    assertTrue(got.length <= full.size() - 1024, "no end-of-archive marker written: " + got.length);
    assertArrayEquals(java.util.Arrays.copyOf(full.toByteArray(), got.length), got, "a prefix of the full output");
  }

  @ParameterizedTest
  @ValueSource(strings = {"uid=-5", "gid=-1", "uid=4294967296", "gid=99999999999"})
  void idsOutsideZeroToTwoToThe32AreRefused(String record) {
    GnuTar t = root();
    String[] kv = record.split("=");
    t.entry("./f", '0', 0644, 0, 0, 0, 1, "", 0, 0, pax(kv[0], kv[1]));
    fails(t.finish(), Map.of(), "tar entry f: uid/gid out of range");
  }

  @Test
  void aRegularFileRepeatingAnInodeIsRefused() {
    GnuTar t = root();
    t.entry("./a", '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    t.entry("./b", '0', 0644, 0, 0, 0, 1, "", 0, 0, Map.of());
    fails(t.finish(), Map.of("a", 9L, "b", 9L), "tar entry b repeats the data of a");
  }
}
