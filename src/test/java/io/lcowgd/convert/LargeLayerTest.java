package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.E2fsck;
import io.lcowgd.testing.LayerChecks;
import io.lcowgd.testing.LoopMount;
import io.lcowgd.testing.TarFixtures;
import io.lcowgd.testing.TreeCompare;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large layers: a file over 4 GiB, and 100k entries in one directory converted by the launcher in a JVM limited to
 * {@code -Xmx128m}. Each takes well under a minute here.
 */
class LargeLayerTest {
  @TempDir Path tmp;

  /** Writes zero chunks as holes, so multi-GiB mostly-zero fixtures cost little disk. */
  static final class SparseOutput extends OutputStream {
    private final java.nio.channels.FileChannel ch;
    private long pos;

    SparseOutput(Path p) throws java.io.IOException {
      ch = java.nio.channels.FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
          java.nio.file.StandardOpenOption.WRITE);
    }

    @Override
    public void write(int b) throws java.io.IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      boolean zero = true;
      for (int i = off; i < off + len && zero; i++) {
        zero = b[i] == 0;
      }
      if (!zero) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b, off, len);
        while (bb.hasRemaining()) {
          ch.write(bb, pos + bb.position() - off);
        }
      }
      pos += len;
    }

    @Override
    public void close() throws java.io.IOException {
      if (ch.size() < pos) {
        ch.write(java.nio.ByteBuffer.wrap(new byte[1]), pos - 1);
      }
      ch.close();
    }
  }

  /**
   * A 4 GiB + 123457-byte file: mostly zeros (holes in the tar and the image) with a distinct marker in every MiB,
   * so offsets beyond 4 GiB are checked without writing gigabytes to disk.
   */
  @Test
  void fileOver4GiB() throws Exception {
    long size = (4L << 30) + 123_457;
    byte[] block = new byte[1 << 20];
    CRC32C expected = new CRC32C();
    Path tar = tmp.resolve("big.tar");
    try (OutputStream os = new SparseOutput(tar)) {
      TarFixtures.Builder b = TarFixtures.builder(os);
      b.file("small-before", "x".getBytes());
      b.file("big", size, out -> {
        long left = size;
        long n = 0;
        while (left > 0) {
          byte[] mark = String.format("MiB%012d", n++).getBytes();
          System.arraycopy(mark, 0, block, 0, mark.length);
          int k = (int) Math.min(left, block.length);
          out.write(block, 0, k);
          expected.update(block, 0, k);
          left -= k;
        }
      });
      b.file("small-after", "y".getBytes());
      b.finish();
    }
    Path vhd = tmp.resolve("big.vhd");
    ConvertResult r;
    try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(tar), 1 << 20)) {
      r = LayerChecks.convertStream(in, vhd, ConvertOptions.defaults());
    }
    Files.delete(tar);
    assertEquals(size + 2, r.contentSize());
    try (LoopMount m = LayerChecks.mount(vhd); InputStream in = Files.newInputStream(m.root().resolve("big"))) {
      assertEquals(size, Files.size(m.root().resolve("big")));
      CRC32C got = new CRC32C();
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) {
        got.update(buf, 0, n);
      }
      assertEquals(expected.getValue(), got.getValue());
      assertEquals("y", Files.readString(m.root().resolve("small-after")));
    }
  }

  @Test
  void hundredThousandEntriesInOneDirectoryWith128MiBHeap() throws Exception {
    long t0 = System.nanoTime();
    Path tar = tmp.resolve("many.tar");
    try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tar), 1 << 20)) {
      TarFixtures.Builder b = TarFixtures.builder(os).nanoTimes(false);
      b.dir("many");
      for (int i = 0; i < 100_000; i++) {
        b.file("many/file-" + i, Integer.toString(i).getBytes());
      }
      b.finish();
    }
    Path vhd = tmp.resolve("many.vhd");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
        "io.lcowgd.Main", "tar2vhd", tar.toString(), vhd.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    assertTrue(out.contains("100001 entries"), out);
    long t1 = System.nanoTime();
    E2fsck.assertClean(vhd);
    LayerChecks.assertMatchesGnuTar(tar, vhd, tmp, TreeCompare.Options.defaults()
        .ignoring(Set.of("lost+found", "")).contentOfEvery(10));
    System.err.printf("100k: build+convert %.1f s, check %.1f s%n", (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    List.of(tar, vhd).forEach(f -> f.toFile().delete());
  }
}
