package io.lcowgd.vhdx;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded mutation fuzzing of the reader: each case corrupts a valid file's structures (bytes, bit flips, interesting
 * values, sometimes re-checksummed so the semantic checks are reached, sometimes truncated); opening and reading must
 * either work or fail with an {@link IOException}, never another exception, and quickly.
 */
class VhdxFuzzTest {
  private static final long MIB = 1 << 20;
  private static final int CASES_PER_SEED = 1000;
  /** Structure areas worth mutating: {offset, length}. */
  private static final long[][] TARGETS = {
    {0, 16}, {64 * 1024, 80}, {128 * 1024, 80}, {192 * 1024, 80}, {256 * 1024, 80},
    {2 * MIB, 96}, {3 * MIB, 200}, {3 * MIB + 65536, 48},
  };
  private static final long[] INTERESTING = {
    0, 1, 2, 3, 6, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL, -1L, Long.MIN_VALUE,
    MIB, 4 * MIB, 4 * MIB | 6, 64L << 40, 1L << 62, 512, 4096, 2047, 2048,
  };

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void mutatedFilesFailCleanly(long seed) throws Exception {
    Path p = dir.resolve("fuzz.vhdx");
    long size = 6 * MIB + 512;
    PayloadRange range = VhdxWriter.createContiguous(p, size, (int) MIB);
    byte[] payload = new byte[(int) MIB];
    new Random(seed).nextBytes(payload);
    byte[] pristine;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      VhdxWriter.writeAt(ch, range.offset(), ByteBuffer.wrap(payload));
      pristine = new byte[(int) (range.offset() + MIB)];
      ch.read(ByteBuffer.wrap(pristine), 0);
    }
    long fileSize = range.offset() + 7 * MIB;
    Random rnd = new Random(seed);
    int opened = 0;
    long start = System.nanoTime();
    for (int c = 0; c < CASES_PER_SEED; c++) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(pristine), 0);
        ch.truncate(pristine.length);
        if (ch.size() < fileSize) {
          ch.write(ByteBuffer.allocate(1), fileSize - 1);
        }
        mutate(ch, rnd);
      }
      long caseStart = System.nanoTime();
      try (VhdxReader r = VhdxReader.open(p)) {
        opened++;
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(r.size(), 2 * MIB));
        for (int i = 0; i < 4; i++) {
          long at = Math.floorMod(rnd.nextLong(), r.size() - b.capacity() + 1);
          r.readFully(at, b.clear());
        }
      } catch (IOException expected) {
        // refused or unreadable: fine
      } catch (RuntimeException | OutOfMemoryError e) {
        throw new AssertionError("seed " + seed + " case " + c + ": " + e, e);
      }
      long ms = (System.nanoTime() - caseStart) / 1_000_000;
      if (ms > 2000) {
        fail("seed " + seed + " case " + c + " took " + ms + " ms");
      }
    }
    long total = (System.nanoTime() - start) / 1_000_000;
    assertTrue(total < 60_000, "fuzzing took " + total + " ms");
    // the fuzzer must not be so destructive that nothing ever opens, nor so gentle that everything does
    assertTrue(opened > 10 && opened < CASES_PER_SEED - 10, "opened " + opened + " of " + CASES_PER_SEED);
  }

  private static void mutate(FileChannel ch, Random rnd) throws IOException {
    int n = 1 + rnd.nextInt(4);
    boolean fixChecksums = rnd.nextInt(3) > 0;
    for (int i = 0; i < n; i++) {
      long[] t = TARGETS[rnd.nextInt(TARGETS.length)];
      long at = t[0] + rnd.nextInt((int) t[1]);
      switch (rnd.nextInt(4)) {
        case 0 -> VhdxWriter.writeAt(ch, at, ByteBuffer.wrap(new byte[] {(byte) rnd.nextInt()}));
        case 1 -> {
          ByteBuffer b = ByteBuffer.allocate(1);
          ch.read(b, at);
          VhdxWriter.writeAt(ch, at, ByteBuffer.wrap(new byte[] {(byte) (b.get(0) ^ (1 << rnd.nextInt(8)))}));
        }
        case 2 -> {
          long v = INTERESTING[rnd.nextInt(INTERESTING.length)];
          int width = new int[] {2, 4, 8}[rnd.nextInt(3)];
          ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v).limit(width);
          VhdxWriter.writeAt(ch, at & ~(width - 1L), b);
        }
        default -> {
          if (rnd.nextInt(4) == 0) {
            ch.truncate(Math.floorMod(rnd.nextLong(), ch.size()));
          } else {
            VhdxWriter.writeAt(ch, at, ByteBuffer.wrap(new byte[] {0, 0, 0, 0}));
          }
        }
      }
    }
    if (fixChecksums) {
      fixCrc(ch, VhdxFormat.HEADER1_OFFSET, VhdxFormat.HEADER_SIZE);
      fixCrc(ch, VhdxFormat.HEADER2_OFFSET, VhdxFormat.HEADER_SIZE);
      fixCrc(ch, VhdxFormat.REGION_TABLE1_OFFSET, VhdxFormat.REGION_TABLE_SIZE);
      fixCrc(ch, VhdxFormat.REGION_TABLE2_OFFSET, VhdxFormat.REGION_TABLE_SIZE);
    }
  }

  private static void fixCrc(FileChannel ch, long at, int len) throws IOException {
    if (ch.size() < at + len) {
      return;
    }
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    ch.read(b, at);
    b.putInt(4, VhdxFormat.crc32c(b, 4));
    VhdxWriter.writeAt(ch, at, b.clear());
  }
}
