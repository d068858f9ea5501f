package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.E2fsck;
import io.lcowgd.testing.LoopMount;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer on its own: big extent trees, limits, sticky errors, link semantics (e2fsck + loop mount). */
class Ext4WriterTest {
  @TempDir Path tmp;

  private static final FileMeta META = FileMeta.of(0644, 0, 0, java.time.Instant.parse("2020-01-01T00:00:00Z"));

  /** Zeros, except an 8-byte marker naming the extent at the start of every 128 MiB extent. */
  static final class MarkedZeros extends InputStream {
    private final long size;
    private long pos;

    MarkedZeros(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - pos);
      java.util.Arrays.fill(b, off, off + n, (byte) 0);
      long ext = 128L << 20;
      for (long m = (pos + ext - 1) / ext * ext; m < pos + n; m += ext) {
        byte[] mark = String.format("EXT%05d", m / ext).getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < mark.length && m + i < pos + n; i++) {
          b[off + (int) (m + i - pos)] = mark[i];
        }
      }
      pos += n;
      return n;
    }
  }

  /** A file of 43 GiB needs 344 extents: an index root over 2 leaf blocks. Zero blocks stay holes in the image. */
  @Test
  void fileNeedingMoreThan340Extents() throws Exception {
    long size = 43L << 30;
    Path img = tmp.resolve("big.img");
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults());
      w.file("huge", META, size, new MarkedZeros(size));
      w.file("after", META, 5, new java.io.ByteArrayInputStream("after".getBytes()));
      w.finish();
    }
    assertTrue(Files.getAttribute(img, "unix:size") instanceof Long);
    E2fsck.assertClean(img);
    try (LoopMount m = LoopMount.ext4(img); RandomAccessFile f = new RandomAccessFile(m.root().resolve("huge").toFile(), "r")) {
      assertEquals(size, f.length());
      byte[] mark = new byte[8];
      for (long e : new long[] {0, 1, 339, 340, 341, 343}) {
        f.seek(e * (128L << 20));
        f.readFully(mark);
        assertEquals(String.format("EXT%05d", e), new String(mark, StandardCharsets.US_ASCII), "extent " + e);
      }
      assertEquals("after", Files.readString(m.root().resolve("after")));
    }
  }

  @Test
  void maximumDiskSizeIsEnforcedAndErrorsAreSticky() throws Exception {
    Path img = tmp.resolve("small.img");
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults().withMaxDiskSize(4 << 20));
      w.file("ok", META, 1000, new java.io.ByteArrayInputStream(new byte[1000]));
      IOException e = assertThrows(IOException.class,
          () -> w.file("too-big", META, 8 << 20, new MarkedZeros(8 << 20)));
      assertTrue(e.getMessage().contains("maximum disk size"), e.getMessage());
      IOException again = assertThrows(IOException.class, () -> w.directory("d", META));
      assertTrue(again.getMessage().contains("failed earlier"));
      assertThrows(IOException.class, w::finish);
    }
  }

  @Test
  void linkSemanticsAndCounts() throws Exception {
    Path img = tmp.resolve("links.img");
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults());
      w.file("a", META, 1, new java.io.ByteArrayInputStream("A".getBytes()));
      w.hardLink("b", "a");
      w.hardLink("c", "b");
      w.hardLink("c", "a"); // same inode: no change
      w.file("a", META, 1, new java.io.ByteArrayInputStream("N".getBytes()));
      w.directory("d/e/f", META);
      w.hardLink("d/e/f/g", "c");
      w.directory("d", META); // existing directory: metadata only, children kept
      assertTrue(w.exists("d/e/f/g"));
      w.finish();
    }
    E2fsck.assertClean(img);
    try (LoopMount m = LoopMount.ext4(img)) {
      assertEquals("N", Files.readString(m.root().resolve("a")));
      assertEquals("A", Files.readString(m.root().resolve("b")));
      assertEquals(3, Files.getAttribute(m.root().resolve("b"), "unix:nlink"));
      assertEquals(1, Files.getAttribute(m.root().resolve("a"), "unix:nlink"));
      assertEquals(3, Files.getAttribute(m.root().resolve("d"), "unix:nlink"));
      assertEquals(4, Files.getAttribute(m.root(), "unix:nlink"));
    }
  }

  /** More than 65000 subdirectories: the parent's link count becomes 1 (dir_nlink), as the kernel does. */
  @Test
  void directoryWithMoreThan65000Subdirectories() throws Exception {
    Path img = tmp.resolve("nlink.img");
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults());
      for (int i = 0; i < 65_001; i++) {
        w.directory("p/d" + i, META);
      }
      w.directory("q/only", META);
      w.finish();
    }
    E2fsck.assertClean(img);
    try (LoopMount m = LoopMount.ext4(img)) {
      assertEquals(1, Files.getAttribute(m.root().resolve("p"), "unix:nlink"));
      assertEquals(3, Files.getAttribute(m.root().resolve("q"), "unix:nlink"));
      assertTrue(Files.isDirectory(m.root().resolve("p/d65000")));
    }
  }

  @Test
  void xattrsThatDoNotFitAreAnError() throws Exception {
    Path img = tmp.resolve("x.img");
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults());
      java.util.Map<String, byte[]> x = new java.util.TreeMap<>();
      x.put("user.a", new byte[3000]);
      x.put("user.b", new byte[2000]);
      w.file("f", META.withXattrs(x), 0, InputStream.nullInputStream());
      IOException e = assertThrows(IOException.class, w::finish);
      assertTrue(e.getMessage().contains("extended attributes"), e.getMessage());
    }
  }

  @Test
  void xattrsInInodeAndBlockAndAcls() throws Exception {
    Path img = tmp.resolve("xa.img");
    java.util.Map<String, byte[]> x = new java.util.TreeMap<>();
    x.put("user.small", "v".getBytes());
    x.put("user.large", new byte[1500]);
    x.put("trusted.t", new byte[0]);
    // POSIX ACL, xattr format v2: USER_OBJ rw, USER 1000 r, GROUP_OBJ r, MASK r, OTHER none.
    java.nio.ByteBuffer acl = java.nio.ByteBuffer.allocate(4 + 5 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    acl.putInt(2);
    acl.putShort((short) 1).putShort((short) 6).putInt(-1);
    acl.putShort((short) 2).putShort((short) 4).putInt(1000);
    acl.putShort((short) 4).putShort((short) 4).putInt(-1);
    acl.putShort((short) 0x10).putShort((short) 4).putInt(-1);
    acl.putShort((short) 0x20).putShort((short) 0).putInt(-1);
    x.put("system.posix_acl_access", acl.array());
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      Ext4Writer w = new Ext4Writer(ch, Ext4Writer.Config.defaults());
      w.file("f", META.withXattrs(x), 0, InputStream.nullInputStream());
      w.finish();
    }
    E2fsck.assertClean(img);
    try (LoopMount m = LoopMount.ext4(img)) {
      java.util.SortedMap<String, byte[]> got = io.lcowgd.testing.Xattrs.read(m.root().resolve("f"));
      for (String k : x.keySet()) {
        org.junit.jupiter.api.Assertions.assertArrayEquals(x.get(k), got.get(k), k);
      }
    }
  }
}
