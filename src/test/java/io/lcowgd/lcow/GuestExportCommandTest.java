package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.convert.ExportMode;
import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.OverlayTarRewriter;
import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.ext4.KernelImages;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.TarBytes;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest export without a guest: {@link GuestDiff#exportCommand} run on the host (same Debian GNU tar and find
 * binaries the guest gets) over a loop-mounted sandbox, its output rewritten by {@link OverlayTarRewriter}, must be
 * byte-identical to {@link Ext4ToTar}'s export of the same image.
 */
class GuestExportCommandTest {
  @TempDir Path tmp;

  @Test
  void overlaySandboxExportIsByteIdenticalToTheHostExport() throws Exception {
    assumeTrue(HostTools.isRoot(), "needs root for loop mounts and overlayfs");
    Path lower = Files.createDirectories(tmp.resolve("lower"));
    SandboxCases.run(SandboxCases.BASE, lower);
    Path img = KernelImages.build(tmp.resolve("sandbox.img"), 64, List.of(), root -> {
      Files.createDirectories(root.resolve("upper"));
      Files.createDirectories(root.resolve("work"));
      Path merged = Files.createDirectories(tmp.resolve("merged"));
      HostTools.check("mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + lower + ",upperdir="
          + root.resolve("upper") + ",workdir=" + root.resolve("work"), merged.toString());
      try {
        SandboxCases.run(SandboxCases.CHANGES, merged);
      } finally {
        HostTools.check("umount", merged.toString());
      }
    });
    byte[] host = hostExport(img);
    byte[] guest = KernelImages.withMount(img, true, mp -> viaCommand(mp.resolve("upper"),
        OverlayTarRewriter.RootLostFound.KEEP));
    TarBytes.assertSameBytes(host, guest, "overlay sandbox");
    String listing = new String(host, java.nio.charset.StandardCharsets.ISO_8859_1);
    for (String expected : List.of(".wh.gone.txt", "keep/.wh.del2", ".wh.gone-dir", "wipe/.wh..wh..opq",
        "SCHILY.xattr.security.capability", "SCHILY.xattr.user.k%x=odd", "SCHILY.xattr.system.posix_acl_access",
        "mtime=-315619199.876543211", "uid=4000000000", "hl/d/second", "SCHILY.xattr.system.posix_acl_default",
        "SCHILY.xattr.user.big=" + "a".repeat(900))) {
      assertTrue(listing.contains(expected), "the fixture exercises " + expected);
    }
  }

  @Test
  void wholeFilesystemExportDropsOnlyAnEmptyLostFound() throws Exception {
    assumeTrue(HostTools.isRoot(), "needs root for loop mounts");
    for (boolean emptyLostFound : new boolean[] {true, false}) {
      Path img = KernelImages.build(tmp.resolve("scratch-" + emptyLostFound + ".img"), 64, List.of(), root -> {
        SandboxCases.run(SandboxCases.BASE, root);
        SandboxCases.run(SandboxCases.CHANGES, root);
        SandboxCases.run(SandboxCases.WHOLE_FS, root);
        if (!emptyLostFound) {
          Files.writeString(root.resolve("lost+found/#12"), "found\n");
        }
      });
      byte[] host = hostExport(img);
      byte[] guest = KernelImages.withMount(img, true, mp -> viaCommand(mp,
          OverlayTarRewriter.RootLostFound.DROP_IF_EMPTY));
      TarBytes.assertSameBytes(host, guest, "whole filesystem, lost+found empty: " + emptyLostFound);
      String s = new String(host, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertEquals(!emptyLostFound, s.contains("lost+found/"), "lost+found kept only when not empty");
      assertTrue(s.contains(".wh.wh") && s.contains("op/.wh..wh..opq"), "whiteout and opaque translated");
    }
  }

  @Test
  void aGuestTarThatExitsNonZeroFailsTheExportAndNoEndOfArchiveIsWritten() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("tree"));
    Files.writeString(dir.resolve("a"), "a\n");
    Files.createLink(dir.resolve("b"), dir.resolve("a"));
    // GNU tar writes a complete archive of "." and then exits 2 for the missing operand
    String failing = hostCommand(dir) + " ./missing";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    IOException e = assertThrows(IOException.class, () -> GuestDiff.export(GuestExportCommandTest::runOnHost,
        failing, OverlayTarRewriter.RootLostFound.KEEP, out, "Diff x", "host shell"));
    assertTrue(e.getMessage().contains("Diff x: guest export in host shell failed: ")
        && e.getMessage().contains("status 2") && e.getMessage().contains("missing"), e.getMessage());
    ByteArrayOutputStream ok = new ByteArrayOutputStream();
    GuestDiff.export(GuestExportCommandTest::runOnHost, hostCommand(dir), OverlayTarRewriter.RootLostFound.KEEP, ok,
        "Diff x", "host shell");
    List<String> names = new java.util.ArrayList<>();
    try (var tin = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
        new java.io.ByteArrayInputStream(ok.toByteArray()))) {
      for (var en = tin.getNextEntry(); en != null; en = tin.getNextEntry()) {
        names.add(en.getName() + (en.isLink() ? "->" + en.getLinkName() : ""));
      }
    }
    assertEquals(List.of("a", "b->a"), names, "the same command without the missing operand exports the tree");
    byte[] got = out.toByteArray();
    assertTrue(got.length <= ok.size() - 1024, "no end-of-archive marker after a failed command: " + got.length);
    assertArrayEquals(java.util.Arrays.copyOf(ok.toByteArray(), got.length), got, "a prefix of the full export");
  }

  @Test
  void anXattrNameWithAnEqualsSignFailsTheExportLikeTheHostExport() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("eq"));
    Files.writeString(dir.resolve("f"), "x");
    HostTools.check("setfattr", "-n", "user.k=v", "-v", "1", dir.resolve("f").toString());
    IOException e = assertThrows(IOException.class, () -> GuestDiff.export(GuestExportCommandTest::runOnHost,
        hostCommand(dir), OverlayTarRewriter.RootLostFound.KEEP, new ByteArrayOutputStream(), "Diff x", "host shell"));
    assertTrue(e.getMessage().contains("tar entry f: xattr name user.k=v contains '='"), e.getMessage());
  }

  /**
   * A host-side failure early in a long stream (an entry the rewriter refuses, then a stream that would take
   * {@code DRAIN} to read to its end) stops the source: its sink fails at the next write, and the export fails at
   * once with the host's error naming the Diff and the entry, instead of draining the rest.
   */
  @Test
  void aRefusedEntryStopsTheSourceInsteadOfDrainingIt() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("refused"));
    Files.writeString(dir.resolve("a.txt"), "a");
    HostTools.check("setfattr", "-n", "user.k=v", "-v", "1", dir.resolve("a.txt").toString());
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    runOnHost(hostCommand(dir), head); // the link listing and the refused entry (then GNU tar's end of archive)
    java.time.Duration drain = java.time.Duration.ofSeconds(30);
    java.util.concurrent.CompletableFuture<IOException> stopped = new java.util.concurrent.CompletableFuture<>();
    GuestDiff.Source longStream = (command, sink) -> {
      long end = System.nanoTime() + drain.toNanos();
      byte[] zeros = new byte[1 << 16];
      try {
        sink.write(head.toByteArray());
        long n = head.size();
        while (System.nanoTime() < end) { // about 64 MB/s, a guest's pace
          sink.write(zeros);
          n += zeros.length;
          Thread.sleep(1);
        }
        return n;
      } catch (IOException e) {
        stopped.complete(e);
        throw e;
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
    };
    long t0 = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> GuestDiff.export(longStream, "long stream",
        OverlayTarRewriter.RootLostFound.KEEP, new ByteArrayOutputStream(), "Diff x", "test source"));
    long millis = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(e.getMessage().startsWith("Diff x (test source): tar entry a.txt: xattr name user.k=v contains '='"),
        e.getMessage());
    assertTrue(millis < 5_000, "failed after " + millis + " ms, not at once (the stream lasts " + drain + ")");
    assertTrue(stopped.isDone(), "the source's sink failed, so it stopped");
  }

  /** The export command with the host's GNU tar and find. */
  private static String hostCommand(Path dir) {
    return GuestDiff.exportCommand(dir.toString()).replace(GuestDiff.GNU_TAR, "/bin/tar")
        .replace(GuestDiff.GNU_FIND, "/usr/bin/find");
  }

  /** {@link GuestDiff.Source} as a host process: stdout to the sink, fails with the status and stderr. */
  private static long runOnHost(String command, java.io.OutputStream sink) throws IOException {
    Process p = new ProcessBuilder("sh", "-c", command).start();
    long n = p.getInputStream().transferTo(sink);
    String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    try {
      int status = p.waitFor();
      if (status != 0) {
        throw new IOException("'" + command + "' failed with status " + status + ": " + err.strip());
      }
    } catch (InterruptedException ex) {
      throw new java.io.InterruptedIOException();
    }
    return n;
  }

  private static byte[] hostExport(Path img) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
      Ext4ToTar.export(r, ExportMode.SANDBOX, out);
    }
    return out.toByteArray();
  }

  /** Runs the guest's export command on the host and rewrites its output as {@link GuestDiff} does. */
  private Path commandOutput(Path dir) throws IOException {
    String cmd = hostCommand(dir);
    Path out = Files.createTempFile(tmp, "export", ".bin");
    Process p = new ProcessBuilder("sh", "-c", cmd).redirectOutput(out.toFile()).redirectErrorStream(false).start();
    String err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    try {
      assertEquals(0, p.waitFor(), cmd + ": " + err);
    } catch (InterruptedException e) {
      throw new IOException(e);
    }
    assertEquals("", err, "the export command writes nothing on stderr");
    return out;
  }

  private byte[] viaCommand(Path dir, OverlayTarRewriter.RootLostFound lostFound) throws IOException {
    Path raw = commandOutput(dir);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = new BufferedInputStream(Files.newInputStream(raw))) {
      Map<String, Long> links = GuestDiff.readLinks(in);
      OverlayTarRewriter.rewrite(in, links, lostFound, out);
    }
    return out.toByteArray();
  }
}
