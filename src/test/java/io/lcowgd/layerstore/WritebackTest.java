package io.lcowgd.layerstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Writeback} against the kernel's own count of a file's dirty pages ({@code cachestat(2)}, Linux 6.5+): a file
 * written without it keeps its pages dirty (the kernel waits 30 s or for the global background threshold), with it
 * they leave the dirty state within seconds, and the content is unchanged.
 */
class WritebackTest {
  private static final int MIB = 1 << 20;
  private static final long SYS_CACHESTAT = 451; // same number on x86_64 and aarch64

  @TempDir Path dir;

  private interface Libc extends Library {
    Libc INSTANCE = Native.load("c", Libc.class);

    int open(String path, int flags, int mode) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    long syscall(long number, Object... args) throws LastErrorException;
  }

  /** Dirty pages of {@code file} (whole file), from cachestat(2). */
  private static long dirtyPages(Path file) {
    int fd = Libc.INSTANCE.open(file.toString(), 0, 0);
    try (Memory range = new Memory(16); Memory stat = new Memory(40)) {
      range.setLong(0, 0);
      range.setLong(8, 0); // 0: to the end of the file
      Libc.INSTANCE.syscall(SYS_CACHESTAT, fd, range, stat, 0);
      return stat.getLong(8); // nr_cache, nr_dirty, nr_writeback, ...
    } finally {
      Libc.INSTANCE.close(fd);
    }
  }

  private static boolean cachestatWorks(Path probe) throws IOException {
    Files.write(probe, new byte[4096]);
    try {
      dirtyPages(probe);
      return true;
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      return false;
    }
  }

  private static byte[] writeRandom(Path file, int mib, long seed) throws Exception {
    Random r = new Random(seed);
    byte[] chunk = new byte[MIB];
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int i = 0; i < mib; i++) {
        r.nextBytes(chunk);
        sha.update(chunk);
        ByteBuffer b = ByteBuffer.wrap(chunk);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        Thread.sleep(5); // a stream arriving over time, as an ApplyDiff body does
      }
    }
    return sha.digest();
  }

  private static byte[] sha256(Path file) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    try (var in = Files.newInputStream(file)) {
      byte[] b = new byte[MIB];
      int n;
      while ((n = in.read(b)) > 0) {
        sha.update(b, 0, n);
      }
    }
    return sha.digest();
  }

  @Test
  void dirtyPagesLeaveTheCacheWhileTheFileIsWritten() throws Exception {
    assumeTrue(cachestatWorks(dir.resolve("probe")), "cachestat(2) unavailable (kernel < 6.5)");
    int mib = 48;
    long pages = (long) mib * MIB / 4096;

    Path without = dir.resolve("without");
    writeRandom(without, mib, 1);
    long dirtyWithout = dirtyPages(without);
    // If the kernel is already flushing (dirty data over the background threshold), this run cannot tell the two apart.
    assumeTrue(dirtyWithout > pages / 2, "the kernel wrote the control file back by itself (" + dirtyWithout
        + " of " + pages + " pages still dirty)");

    Path with = dir.resolve("with");
    byte[] written;
    Writeback w = Writeback.start(with, Duration.ofMillis(20));
    try {
      written = writeRandom(with, mib, 2);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (dirtyPages(with) > pages / 20 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    } finally {
      w.close();
    }
    long dirtyWith = dirtyPages(with);
    assertTrue(dirtyWith <= pages / 20, dirtyWith + " of " + pages + " pages still dirty with write-back, "
        + dirtyWithout + " without");
    assertTrue(w.requests() > 0, "no write-out request succeeded");
    assertArrayEquals(written, sha256(with));
  }

  @Test
  void aFileThatNeverAppearsIsNoError() throws Exception {
    Writeback w = Writeback.start(dir.resolve("never"), Duration.ofMillis(5));
    Thread.sleep(50);
    w.close();
    assertEquals(0, w.requests());
    assertTrue(Files.notExists(dir.resolve("never")));
  }

  @Test
  void addFileStillProducesTheSameBytes() throws Exception {
    LayerStore s = LayerStore.open(dir.resolve("root"));
    s.create("a", null, d -> {});
    byte[][] sha = new byte[1][];
    Path vhd = s.addFile("a", LayerStore.LAYER_VHD, p -> {
      try {
        sha[0] = writeRandom(p, 8, 3);
      } catch (IOException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    });
    assertArrayEquals(sha[0], sha256(vhd));
    assertEquals(0, dirtyPages(vhd), "addFile fsyncs the file before linking it");
  }
}
