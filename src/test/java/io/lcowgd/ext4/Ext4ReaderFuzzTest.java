package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.disk.DiskReader;
import io.lcowgd.testing.DeviceNodes;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.Xattrs;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing: mutates real kernel-written images (with and without metadata_csum, with inline_data) where the
 * reader looks (the byte ranges a clean walk reads), then walks and exports each mutant. Every case must end in
 * success or an {@link IOException} (a clean error), within a per-case timeout; anything else fails with the seed.
 */
class Ext4ReaderFuzzTest {
  private static final long SEED = Long.getLong("lcow.fuzz.seed", 20261128L);
  private static final int CASES_PER_IMAGE = Integer.getInteger("lcow.fuzz.cases", 1200);
  private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("lcow.fuzz.seconds", 55));
  private static final long SINK_LIMIT = 32L << 20;

  @TempDir Path tmp;

  /** An in-memory disk that can also record the ranges read from it. */
  static final class MemDisk implements DiskReader {
    final byte[] b;
    final List<long[]> reads;

    MemDisk(byte[] b, List<long[]> reads) {
      this.b = b;
      this.reads = reads;
    }

    @Override
    public long size() {
      return b.length;
    }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
      int n = dst.remaining();
      if (offset < 0 || offset + n > b.length) {
        throw new EOFException("read of " + n + " at " + offset + " past end " + b.length);
      }
      if (reads != null && n <= 65536) {
        reads.add(new long[] {offset, n});
      }
      dst.put(b, (int) offset, n);
    }

    @Override
    public void close() {}
  }

  /** A sink that fails once a (mutated) export grows absurdly large, which is a clean outcome. */
  static final class CappedSink extends OutputStream {
    long n;

    @Override
    public void write(int x) throws IOException {
      write(new byte[] {(byte) x}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      n += len;
      if (n > SINK_LIMIT) {
        throw new IOException("export larger than the fuzz limit");
      }
    }
  }

  @Test
  void mutatedImagesFailCleanlyOrSucceed() throws Exception {
    assumeTrue(HostTools.isRoot(), "needs root for loop mounts");
    List<byte[]> images = new ArrayList<>();
    images.add(image("csum.img", List.of()));
    images.add(image("nocsum.img", List.of("-O", "^metadata_csum,^64bit")));
    images.add(image("inline.img", List.of("-b", "4096", "-O", "inline_data,^metadata_csum")));
    ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fuzz");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    int done = 0;
    int clean = 0;
    try {
      for (int im = 0; im < images.size(); im++) {
        byte[] base = images.get(im);
        List<long[]> ranges = new ArrayList<>();
        walk(new MemDisk(base, ranges), ranges); // must succeed on the unmutated image
        for (int c = 0; c < CASES_PER_IMAGE; c++) {
          if (System.nanoTime() - start > BUDGET_NANOS) {
            break;
          }
          long caseSeed = SEED * 1_000_003L + im * 100_000L + c;
          Random rnd = new Random(caseSeed);
          byte[] m = base.clone();
          String what = mutate(m, ranges, rnd);
          if (rnd.nextInt(50) == 0) {
            m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length));
            what += " truncated to " + m.length;
          }
          byte[] img = m;
          Future<Throwable> f = ex.submit(() -> {
            try {
              walk(new MemDisk(img, null), null);
              return null;
            } catch (Throwable t) {
              return t;
            }
          });
          Throwable t;
          try {
            t = f.get(5, TimeUnit.SECONDS);
          } catch (TimeoutException te) {
            fail("hang: image " + im + " case seed " + caseSeed + " (" + what + ")");
            return;
          }
          done++;
          if (t instanceof IOException) {
            clean++;
            assertTrue(t.getMessage() != null && !t.getMessage().isBlank(), "error without message: " + t);
          } else if (t != null) {
            AssertionError e = new AssertionError("image " + im + " case seed " + caseSeed + " (" + what + "): " + t, t);
            throw e;
          }
        }
      }
    } finally {
      ex.shutdownNow();
    }
    System.out.printf("fuzz: %d cases (%d clean errors) in %.1f s, seed %d%n", done, clean,
        (System.nanoTime() - start) / 1e9, SEED);
    assertTrue(done >= 500, "too few fuzz cases ran within the budget: " + done);
  }

  private byte[] image(String name, List<String> opts) throws IOException {
    List<String> o = new ArrayList<>(opts);
    Path img = KernelImages.build(tmp.resolve(name), 4, o, r -> {
      Files.createDirectories(r.resolve("d/e"));
      for (int i = 0; i < 120; i++) {
        Files.writeString(r.resolve("d/file-with-a-long-name-" + i), "x".repeat(i));
      }
      try (RandomAccessFile f = new RandomAccessFile(r.resolve("frag").toFile(), "rw")) {
        for (int i = 0; i < 40; i++) {
          f.seek(i * 8192L);
          f.write(new byte[1024]);
        }
      }
      Files.createSymbolicLink(r.resolve("d/e/s"), Path.of("x".repeat(100)));
      Files.createSymbolicLink(r.resolve("short"), Path.of("d"));
      Xattrs.set(r.resolve("d"), "user.a", "1".repeat(300).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      Xattrs.set(r.resolve("short"), "trusted.overlay.opaque", new byte[] {'y'});
      Files.createLink(r.resolve("d/e/hl"), r.resolve("d/file-with-a-long-name-7"));
      DeviceNodes.mknod(r.resolve("wh"), Ext4Inode.S_IFCHR, 0, 0);
    });
    return Files.readAllBytes(img);
  }

  /**
   * Walks everything the reader offers and exports the image to a capped sink; with {@code inodeRanges}, also records
   * the on-disk range of every inode reached (inode-table reads are cached per block, so the disk alone cannot tell).
   */
  static void walk(DiskReader disk, List<long[]> inodeRanges) throws IOException {
    try (Ext4Reader r = Ext4Reader.open(disk)) {
      Set<Long> seen = new HashSet<>();
      walkDir(r, r.root(), seen, 0, inodeRanges);
      Ext4ToTar.export(r, ExportMode.LAYER, new CappedSink());
      Ext4ToTar.export(r, ExportMode.SANDBOX, new CappedSink());
    }
  }

  private static void walkDir(Ext4Reader r, Ext4Inode dir, Set<Long> seen, int depth, List<long[]> inodeRanges)
      throws IOException {
    if (!seen.add(dir.number()) || depth > 100) {
      return;
    }
    for (DirEntry e : r.list(dir)) {
      Ext4Inode i = r.inode(e.inode());
      if (inodeRanges != null) {
        for (int w = 0; w < 4; w++) {
          inodeRanges.add(new long[] {r.inodeOffset(i.number()), r.superblock().inodeSize()});
        }
      }
      r.xattrs(i);
      if (i.isSymlink()) {
        r.readLink(i);
      } else if (i.isRegular()) {
        r.extentCount(i);
        if (i.size() <= SINK_LIMIT) {
          r.copyData(i, new CappedSink());
        }
      } else if (i.isDirectory()) {
        walkDir(r, i, seen, depth + 1, inodeRanges);
      }
    }
  }

  private static String mutate(byte[] m, List<long[]> ranges, Random rnd) {
    int k = 1 + rnd.nextInt(4);
    StringBuilder what = new StringBuilder();
    for (int i = 0; i < k; i++) {
      long[] range = ranges.get(rnd.nextInt(ranges.size()));
      int pos = (int) (range[0] + rnd.nextInt((int) range[1]));
      switch (rnd.nextInt(5)) {
        case 0 -> m[pos] = (byte) rnd.nextInt(256);
        case 1 -> m[pos] ^= (byte) (1 << rnd.nextInt(8));
        case 2 -> m[pos] = rnd.nextBoolean() ? 0 : (byte) 0xFF;
        default -> {
          int p = pos & ~3;
          if (p + 4 <= m.length) {
            int[] interesting = {0, 1, 2, 3, 11, 12, 0x7FFFFFFF, -1, 0x8000, 32768, 65535, 4096, 1024, m.length / 1024};
            int v = rnd.nextBoolean() ? interesting[rnd.nextInt(interesting.length)] : rnd.nextInt();
            for (int b = 0; b < (rnd.nextBoolean() ? 2 : 4); b++) {
              m[p + b] = (byte) (v >>> (8 * b));
            }
          }
        }
      }
      what.append(String.format("@%d ", pos));
    }
    return what.toString().trim();
  }
}
