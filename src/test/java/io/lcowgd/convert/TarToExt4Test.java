package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.LayerChecks;
import io.lcowgd.testing.LoopMount;
import io.lcowgd.testing.TarFixtures;
import io.lcowgd.testing.TreeCompare;
import io.lcowgd.testing.Xattrs;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layer tars covering every entry kind and tar feature, converted and compared with GNU tar's extraction of the same
 * tar (every image also passes e2fsck -fn via {@link LayerChecks}).
 */
class TarToExt4Test {
  @TempDir Path tmp;

  private static final TreeCompare.Options NO_ROOT = TreeCompare.Options.defaults()
      .ignoring(Set.of("lost+found", ""));

  private Path tar(TarFixtures.Builder b) throws Exception {
    return b.write(Files.createTempFile(tmp, "layer-", ".tar"));
  }

  private Path vhd() throws Exception {
    return tmp.resolve("layer-" + System.nanoTime() + ".vhd");
  }

  @Test
  void allEntryKindsMatchGnuTar() throws Exception {
    Map<String, byte[]> pax = RoundTripTest.binaryXattrPax();
    byte[] cap = pax.get("SCHILY.xattr.security.capability");
    Path t = tar(TarFixtures.builder()
        .dir("./")
        .dir("./etc")
        .file("./etc/hosts", "127.0.0.1 localhost\n")
        .file("./etc/empty", new byte[0])
        .file("./etc/shadow", "secret", e -> { e.setMode(0100640); e.setIds(0, 42); })
        .dir("bin")
        .fileWithRawPax("bin/ping", new byte[5000], 0104755, pax)
        .file("bin/sgid", "x", e -> e.setMode(0102755))
        .dir("tmp", e -> e.setMode(041777))
        .file("big-ids", "ids", e -> { e.setUserId(100000); e.setGroupId(70000); })
        .symlink("short", "etc/hosts")
        .symlink("long", "a/" + "x".repeat(200))
        .symlink("max59", "y".repeat(59))
        .symlink("exact60", "z".repeat(60))
        .hardlink("hosts-link", "etc/hosts")
        .hardlink("./etc/hosts-link2", "/etc/hosts")
        .charDev("dev/null", 1, 3)
        .charDev("dev/big", 300, 70000)
        .blockDev("dev/sda", 8, 0)
        .fifo("dev/fifo")
        .file("very/deep/missing/parents/file", "p")
        .file("d/" + "n".repeat(255), "long component")
        .file("lng/" + "p".repeat(120) + "/" + "q".repeat(120) + "/file", "long path")
        .file("\u00fcnic\u00f8de-\u65e5\u672c", "utf8 name")
        .file("old", "1", e -> e.setLastModifiedTime(FileTime.from(Instant.parse("1950-06-01T00:00:00.25Z"))))
        .file("future", "2", e -> e.setLastModifiedTime(FileTime.from(Instant.parse("2300-01-01T00:00:00Z")))));
    Path v = vhd();
    ConvertResult r = LayerChecks.convert(t, v);
    // hosts 20, shadow 6, ping 5000, sgid 1, big-ids 3, deep 1, long component 14, long path 9, utf8 9, old 1, future 1
    assertEquals(20 + 6 + 5000 + 1 + 3 + 1 + 14 + 9 + 9 + 1 + 1, r.contentSize());
    LayerChecks.assertMatchesGnuTar(t, v, tmp, TreeCompare.Options.defaults()
        // etc: tar -x itself bumps its mtime when it later adds hosts-link2 there.
        .ignoringMtimeOf(Set.of("etc", "dev", "very", "very/deep", "very/deep/missing", "very/deep/missing/parents", "d",
            "lng", "lng/" + "p".repeat(120), "lng/" + "p".repeat(120) + "/" + "q".repeat(120))));
    try (LoopMount m = LayerChecks.mount(v)) {
      assertArrayEquals(cap, Xattrs.read(m.root().resolve("bin/ping")).get("security.capability"));
      assertEquals(3, Files.getAttribute(m.root().resolve("etc/hosts"), "unix:nlink"));
      assertEquals(Instant.parse("1950-06-01T00:00:00.25Z"),
          Files.getLastModifiedTime(m.root().resolve("old"), LinkOption.NOFOLLOW_LINKS).toInstant());
    }
  }

  /**
   * A tree made on disk and archived by GNU tar (POSIX format, xattrs incl. a binary security.capability, a sparse
   * file archived with --sparse, zero runs, hard links, devices): the image must equal GNU tar's extraction.
   */
  @Test
  void gnuTarArchiveOfARealTree() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("usr/bin"));
    Path ping = Files.write(src.resolve("usr/bin/ping"), new byte[12345]);
    Xattrs.set(ping, "security.capability",
        new byte[] {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0});
    Xattrs.set(src.resolve("usr"), "user.comment", "dir xattr".getBytes(StandardCharsets.UTF_8));
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(src.resolve("sparse"),
        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap("head".getBytes()), 0);
      ch.write(java.nio.ByteBuffer.wrap("middle".getBytes()), 5L << 20);
      ch.write(java.nio.ByteBuffer.wrap("tail".getBytes()), (9L << 20) - 4);
    }
    byte[] zeroRuns = new byte[3 << 20];
    zeroRuns[1 << 20] = 1;
    Files.write(src.resolve("zero-runs"), zeroRuns);
    Files.createLink(src.resolve("usr/bin/ping6"), ping);
    Files.createSymbolicLink(src.resolve("usr/lib64"), Path.of("lib"));
    new ProcessBuilder("mknod", src.resolve("null").toString(), "c", "1", "3").start().waitFor();
    new ProcessBuilder("mkfifo", src.resolve("fifo").toString()).start().waitFor();
    new ProcessBuilder("chown", "-h", "123456:654321", src.resolve("zero-runs").toString()).start().waitFor();
    Files.setLastModifiedTime(src.resolve("zero-runs"), FileTime.from(Instant.parse("1969-07-20T20:17:40.123456789Z")));
    Path t = TarFixtures.tarDirectoryWithGnuTar(src, tmp.resolve("gnu-posix.tar"), "--sparse");
    Path v = vhd();
    LayerChecks.convert(t, v);
    LayerChecks.assertMatchesGnuTar(t, v, tmp, TreeCompare.Options.defaults());
    Path v2 = vhd();
    LayerChecks.convertStream(new java.io.FileInputStream(t.toFile()), v2, ConvertOptions.defaults());
  }

  @Test
  void gnuLongNamesAndPlainStreamInput() throws Exception {
    java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
    TarArchiveOutputStream tos = new TarArchiveOutputStream(bos);
    tos.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
    org.apache.commons.compress.archivers.tar.TarArchiveEntry e =
        new org.apache.commons.compress.archivers.tar.TarArchiveEntry("g/" + "L".repeat(200));
    byte[] data = new byte[300_000];
    new Random(7).nextBytes(data);
    e.setSize(data.length);
    e.setModTime(1_000_000_000_000L);
    tos.putArchiveEntry(e);
    tos.write(data);
    tos.closeArchiveEntry();
    tos.finish();
    Path t = Files.write(tmp.resolve("gnu.tar"), bos.toByteArray());
    Path v = vhd();
    LayerChecks.convertStream(new ByteArrayInputStream(bos.toByteArray()), v, ConvertOptions.defaults());
    LayerChecks.assertMatchesGnuTar(t, v, tmp, NO_ROOT.ignoringMtimeOf(Set.of("g")));
    // Same tar from a file takes the direct-copy path and must give identical bytes.
    Path v2 = vhd();
    LayerChecks.convert(t, v2);
    assertArrayEquals(Files.readAllBytes(v), Files.readAllBytes(v2));
  }

  @Test
  void duplicatesAndReplacementsLaterWins() throws Exception {
    byte[] big1 = new byte[600_000];
    byte[] big2 = new byte[300_000];
    new Random(1).nextBytes(big1);
    new Random(2).nextBytes(big2);
    Path t = tar(TarFixtures.builder()
        .file("dup", big1)
        .hardlink("keeps-old", "dup")
        .file("dup", big2)
        .file("dup2", "first")
        .file("dup2", "second", e -> e.setMode(0100600))
        .file("f2d", "file")
        .dir("f2d")
        .file("f2d/child", "c")
        .dir("d", e -> e.setMode(040700))
        .dir("d", e -> e.setMode(040750))
        .symlink("sym", "dup")
        .hardlink("sym-hard", "sym")
        .file("sym", "now a file")
        .fifo("x")
        .symlink("x", "dup2"));
    Path v = vhd();
    LayerChecks.convert(t, v);
    LayerChecks.assertMatchesGnuTar(t, v, tmp, NO_ROOT);
    try (LoopMount m = LayerChecks.mount(v)) {
      assertArrayEquals(big1, Files.readAllBytes(m.root().resolve("keeps-old")));
      assertArrayEquals(big2, Files.readAllBytes(m.root().resolve("dup")));
      assertEquals("dup", Files.readSymbolicLink(m.root().resolve("sym-hard")).toString());
    }
  }

  /** Entries below a symlinked directory are written through it, inside the layer, as tar -x does. */
  @Test
  void entriesBelowSymlinkedDirectories() throws Exception {
    Path rel = tar(TarFixtures.builder()
        .dir("usr")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .file("lib/a", "through relative link")
        .hardlink("hl", "lib/a"));
    Path v0 = vhd();
    LayerChecks.convert(rel, v0);
    LayerChecks.assertMatchesGnuTar(rel, v0, tmp, NO_ROOT.ignoringMtimeOf(Set.of("usr/lib")));
    // Absolute targets and ".." resolve inside the layer (GNU tar, not chrooted, cannot be the reference here).
    Path t = tar(TarFixtures.builder()
        .dir("usr")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .symlink("abs", "/usr/lib")
        .symlink("up", "../../../usr")
        .file("lib/a", "through relative link")
        .file("abs/b", "through absolute link")
        .file("up/lib/c", "dot-dot stops at the layer root")
        .hardlink("hl", "abs/a"));
    Path v = vhd();
    LayerChecks.convert(t, v);
    try (LoopMount m = LayerChecks.mount(v)) {
      assertEquals("through absolute link", Files.readString(m.root().resolve("usr/lib/b")));
      assertEquals("dot-dot stops at the layer root", Files.readString(m.root().resolve("usr/lib/c")));
      assertEquals(2, Files.getAttribute(m.root().resolve("usr/lib/a"), "unix:nlink"));
    }
    Path bad = tar(TarFixtures.builder().symlink("loop", "loop").file("loop/x", "x"));
    java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> LayerChecks.convert(bad, vhd()));
    assertTrue(e.getMessage().contains("symbolic links"), e.getMessage());
    Path dangling = tar(TarFixtures.builder().symlink("d", "nowhere").file("d/x", "x"));
    e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
        () -> LayerChecks.convert(dangling, vhd()));
    assertTrue(e.getMessage().contains("'d/x'"), e.getMessage());
  }

  @Test
  void directoryReplacedByFileLosesSubtree() throws Exception {
    Path t = tar(TarFixtures.builder()
        .dir("d")
        .file("d/a", "a")
        .dir("d/sub")
        .file("d/sub/b", "b")
        .hardlink("outside", "d/sub/b")
        .file("d", "now a file"));
    Path v = vhd();
    LayerChecks.convert(t, v);
    try (LoopMount m = LayerChecks.mount(v)) {
      assertTrue(Files.isRegularFile(m.root().resolve("d"), LinkOption.NOFOLLOW_LINKS));
      assertEquals("now a file", Files.readString(m.root().resolve("d")));
      assertEquals("b", Files.readString(m.root().resolve("outside")));
      assertEquals(1, Files.getAttribute(m.root().resolve("outside"), "unix:nlink"));
    }
  }

  @Test
  void whiteoutsBecomeOverlayWhiteouts() throws Exception {
    Path t = tar(TarFixtures.builder()
        .dir("etc")
        .file("etc/.wh.group", new byte[0])
        .file("usr/lib/.wh..wh..opq", new byte[0])
        .file("opq/.wh..wh..opq", new byte[0])
        .dir("opq", e -> e.setMode(040711))
        .file("a/.wh..wh.plnk", new byte[0])
        .file(".wh.top", new byte[0]));
    Path v = vhd();
    ConvertResult r = LayerChecks.convert(t, v);
    assertEquals(7, r.entries());
    try (LoopMount m = LayerChecks.mount(v)) {
      for (String w : new String[] {"etc/group", "top"}) {
        Path p = m.root().resolve(w);
        Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        assertEquals(020000, a.get("mode"), w);
        assertEquals(0L, a.get("rdev"));
        assertEquals(0, a.get("uid"));
        assertEquals(0, a.get("gid"));
        assertEquals(Instant.EPOCH, ((FileTime) a.get("lastModifiedTime")).toInstant());
      }
      assertArrayEquals(new byte[] {'y'}, Xattrs.read(m.root().resolve("usr/lib")).get("trusted.overlay.opaque"));
      assertArrayEquals(new byte[] {'y'}, Xattrs.read(m.root().resolve("opq")).get("trusted.overlay.opaque"));
      assertEquals(0711, (Integer) Files.getAttribute(m.root().resolve("opq"), "unix:mode") & 07777);
      assertFalse(Files.exists(m.root().resolve("a/.wh..wh.plnk"), LinkOption.NOFOLLOW_LINKS));
      assertFalse(Files.exists(m.root().resolve("etc/.wh.group"), LinkOption.NOFOLLOW_LINKS));
    }
    // Without conversion the entries are stored verbatim, exactly like tar -x.
    Path v2 = vhd();
    LayerChecks.convert(t, v2, ConvertOptions.defaults().withConvertWhiteouts(false));
    LayerChecks.assertMatchesGnuTar(t, v2, tmp, NO_ROOT.ignoringMtimeOf(Set.of("usr", "usr/lib", "a")));
  }

  @Test
  void deterministicOutputAndTrailingBytesDrained() throws Exception {
    TarFixtures.Builder b = TarFixtures.builder();
    Random rnd = new Random(3);
    for (int i = 0; i < 300; i++) {
      byte[] d = new byte[rnd.nextInt(10_000)];
      rnd.nextBytes(d);
      b.file("dir" + (i % 7) + "/f" + i, d);
    }
    byte[] tarBytes = b.toBytes();
    byte[] withTrailer = java.util.Arrays.copyOf(tarBytes, tarBytes.length + 12345);
    Path v1 = vhd();
    Path v2 = vhd();
    ByteArrayInputStream in = new ByteArrayInputStream(withTrailer);
    ConvertResult r = LayerChecks.convertStream(in, v1, ConvertOptions.defaults());
    assertEquals(0, in.available(), "the whole stream was read");
    assertEquals(withTrailer.length, r.tarBytes());
    LayerChecks.convertStream(new ByteArrayInputStream(tarBytes), v2, ConvertOptions.defaults());
    assertArrayEquals(Files.readAllBytes(v1), Files.readAllBytes(v2));
  }

  @Test
  void emptyTarAndNoFooter() throws Exception {
    Path t = tar(TarFixtures.builder());
    Path v = vhd();
    ConvertResult r = LayerChecks.convert(t, v, ConvertOptions.defaults().withAppendVhdFooter(false));
    assertEquals(0, r.entries());
    assertEquals(0, r.contentSize());
    assertEquals(r.ext4Size(), Files.size(v));
    assertEquals(0, Files.size(v) % 4096);
    try (LoopMount m = LoopMount.ext4(v)) {
      assertTrue(Files.isDirectory(m.root().resolve("lost+found")));
    }
  }
}
