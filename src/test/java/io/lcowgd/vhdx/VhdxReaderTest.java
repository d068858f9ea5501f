package io.lcowgd.vhdx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.testing.HostTools;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VhdxReaderTest {
  private static final long MIB = 1 << 20;

  @TempDir Path dir;

  /** A writer-made VHDX with seeded random data written straight into its payload range. */
  private Path sample(long virtualSize, int blockSize, byte[] content) throws IOException {
    Path p = Files.createTempFile(dir, "sample-" + virtualSize + "-" + blockSize + "-", ".vhdx");
    Files.delete(p);
    PayloadRange r = VhdxWriter.createContiguous(p, virtualSize, blockSize);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      VhdxWriter.writeAt(ch, r.offset(), ByteBuffer.wrap(content));
    }
    return p;
  }

  private static byte[] randomContent(long size, long seed) {
    byte[] b = new byte[(int) size];
    Random rnd = new Random(seed);
    // data blocks separated by zero runs, so some 4 KiB pages are holes
    for (int at = 0; at < b.length; at += 256 * 1024) {
      byte[] chunk = new byte[Math.min(100_000, b.length - at)];
      rnd.nextBytes(chunk);
      System.arraycopy(chunk, 0, b, at, chunk.length);
    }
    return b;
  }

  @ParameterizedTest
  @CsvSource({"67108864, 1048576", "41943552, 33554432", "8388608, 4194304"})
  void writerOutputRoundTripsThroughReaderAndQemu(long size, int blockSize) throws Exception {
    byte[] content = randomContent(size, size);
    Path p = sample(size, blockSize, content);
    try (VhdxReader r = VhdxReader.open(p)) {
      assertEquals(size, r.size());
      assertEquals(blockSize, r.blockSize());
      assertTrue(r.leaveBlockAllocated());
      assertEquals(512, r.logicalSectorSize());
      assertEquals(4096, r.physicalSectorSize());
      assertEquals(r.payloadRange(), Vhdx.payloadRange(p));
      Random rnd = new Random(7);
      for (int i = 0; i < 200; i++) {
        int off = rnd.nextInt((int) size);
        int len = rnd.nextInt((int) Math.min(3 * MIB, size - off) + 1);
        ByteBuffer got = ByteBuffer.allocate(len);
        r.readFully(off, got);
        assertArrayEquals(java.util.Arrays.copyOfRange(content, off, off + len), got.array(), "at " + off);
      }
      assertThrows(EOFException.class, () -> r.readFully(size - 1, ByteBuffer.allocate(2)));
    }
    assertTrue(VhdxReader.isVhdx(p));
    HostTools.check("qemu-img", "check", "-f", "vhdx", p.toString());
    assertTrue(HostTools.check("qemu-img", "info", "-f", "vhdx", p.toString()).contains("(" + size + " bytes)"));
    Path raw = dir.resolve("out.raw");
    HostTools.check("qemu-img", "convert", "-f", "vhdx", "-O", "raw", p.toString(), raw.toString());
    assertArrayEquals(content, Files.readAllBytes(raw));
  }

  @ParameterizedTest
  @CsvSource({"dynamic, 32M", "dynamic, 1M", "fixed, 1M", "fixed, 8M"})
  void readsWhatQemuWrites(String subformat, String blockSize) throws Exception {
    long size = 24 * MIB + 4096;
    byte[] content = randomContent(size, 99);
    // leave whole blocks of zeros so the dynamic file has NOT_PRESENT entries
    java.util.Arrays.fill(content, (int) (2 * MIB), (int) (10 * MIB), (byte) 0);
    Path raw = dir.resolve("in.raw");
    Files.write(raw, content);
    Path v = dir.resolve("q.vhdx");
    HostTools.check("qemu-img", "convert", "-f", "raw", "-O", "vhdx", "-o",
        "subformat=" + subformat + ",block_size=" + blockSize, raw.toString(), v.toString());
    try (VhdxReader r = VhdxReader.open(v)) {
      assertEquals(size, r.size());
      ByteBuffer all = ByteBuffer.allocate((int) size);
      r.readFully(0, all);
      assertArrayEquals(content, all.array());
      assertEquals(subformat.equals("fixed"), r.leaveBlockAllocated());
      if (subformat.equals("dynamic") && blockSize.equals("1M")) {
        VhdxFormatException e = assertThrows(VhdxFormatException.class, r::payloadRange);
        assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());
      }
    }
  }

  @Test
  void writerNeverReplacesAnExistingFile() throws Exception {
    Path p = dir.resolve("taken.vhdx");
    Files.writeString(p, "mine");
    assertThrows(java.nio.file.FileAlreadyExistsException.class,
        () -> VhdxWriter.createContiguous(p, 1 << 20, 1 << 20));
    assertEquals("mine", Files.readString(p));
  }

  @Test
  void isVhdxLooksOnlyAtTheIdentifier() throws Exception {
    Path junk = dir.resolve("junk");
    Files.write(junk, new byte[] {'v', 'h', 'd', 'x'});
    assertFalse(VhdxReader.isVhdx(junk));
    Files.write(junk, "vhdxfilE-and-more".getBytes());
    assertFalse(VhdxReader.isVhdx(junk));
    assertTrue(VhdxReader.isVhdx("vhdxfile".getBytes()));
    VhdxFormatException e = assertThrows(VhdxFormatException.class, () -> VhdxReader.open(junk));
    assertTrue(e.getMessage().contains("file identifier"), e.getMessage());
  }

  @Test
  void renewIdentityChangesGuidsAndKeepsTheFileValid() throws Exception {
    Path p = sample(8 * MIB, (int) MIB, randomContent(8 * MIB, 3));
    UUID before;
    try (VhdxReader r = VhdxReader.open(p)) {
      before = r.page83();
    }
    Vhdx.renewIdentity(p);
    try (VhdxReader r = VhdxReader.open(p)) {
      assertNotEquals(before, r.page83());
      assertEquals(3, r.currentSequence());
    }
    HostTools.check("qemu-img", "check", "-f", "vhdx", p.toString());
  }

  // ---- refusals: each corrupts one structure (re-checksummed where the point is the semantic check) ----

  private Path corrupted(Consumer<FileChannel> patch) throws IOException {
    Path p = sample(8 * MIB, (int) MIB, new byte[(int) (8 * MIB)]);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      patch.accept(ch);
    }
    return p;
  }

  private static ByteBuffer readAt(FileChannel ch, long pos, int len) {
    try {
      ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
      ch.read(b, pos);
      return b.clear();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void write(FileChannel ch, long pos, ByteBuffer b) {
    try {
      VhdxWriter.writeAt(ch, pos, b.clear());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Applies {@code edit} to the 4 KiB header at {@code at} and recomputes its checksum. */
  private static void editHeader(FileChannel ch, long at, Consumer<ByteBuffer> edit) {
    ByteBuffer h = readAt(ch, at, VhdxFormat.HEADER_SIZE);
    edit.accept(h);
    h.putInt(4, VhdxFormat.crc32c(h, 4));
    write(ch, at, h);
  }

  /** Applies {@code edit} to both region tables and recomputes their checksums. */
  private static void editRegions(FileChannel ch, Consumer<ByteBuffer> edit) {
    for (long at : new long[] {VhdxFormat.REGION_TABLE1_OFFSET, VhdxFormat.REGION_TABLE2_OFFSET}) {
      ByteBuffer t = readAt(ch, at, VhdxFormat.REGION_TABLE_SIZE);
      edit.accept(t);
      t.putInt(4, VhdxFormat.crc32c(t, 4));
      write(ch, at, t);
    }
  }

  private static final long METADATA = 3 * MIB; // writer layout for small disks: BAT at 2 MiB, metadata at 3 MiB
  private static final long BAT = 2 * MIB;

  private void assertRefused(String expected, Consumer<FileChannel> patch) throws IOException {
    Path p = corrupted(patch);
    VhdxFormatException e = assertThrows(VhdxFormatException.class, () -> VhdxReader.open(p).close());
    assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
    assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
  }

  @Test
  void refusesBadIdentifier() throws IOException {
    assertRefused("file identifier", ch -> write(ch, 0, ByteBuffer.wrap("vhdxfilX".getBytes())));
  }

  @Test
  void refusesTwoBadHeadersButUsesTheSurvivingOne() throws IOException {
    assertRefused("both headers", ch -> {
      write(ch, VhdxFormat.HEADER1_OFFSET + 100, ByteBuffer.wrap(new byte[] {1}));
      write(ch, VhdxFormat.HEADER2_OFFSET + 100, ByteBuffer.wrap(new byte[] {1}));
    });
    Path p = corrupted(ch -> write(ch, VhdxFormat.HEADER2_OFFSET + 100, ByteBuffer.wrap(new byte[] {1})));
    try (VhdxReader r = VhdxReader.open(p)) {
      assertEquals(0, r.currentSequence());
    }
  }

  @Test
  void acceptsIdenticalHeadersButNotDifferentOnesWithOneSequence() throws IOException {
    Path same = corrupted(ch -> write(ch, VhdxFormat.HEADER2_OFFSET, readAt(ch, VhdxFormat.HEADER1_OFFSET, 4096)));
    VhdxReader.open(same).close();
    assertRefused("same sequence number",
        ch -> editHeader(ch, VhdxFormat.HEADER2_OFFSET, h -> h.putLong(8, 0)));
  }

  @Test
  void refusesALogThatNeedsReplay() throws IOException {
    assertRefused("log must be replayed",
        ch -> editHeader(ch, VhdxFormat.HEADER2_OFFSET, h -> VhdxFormat.putGuid(h, 48, UUID.randomUUID())));
  }

  @Test
  void fallsBackToRegionTable2AndRefusesWhenBothAreBad() throws IOException {
    Path p = corrupted(ch -> write(ch, VhdxFormat.REGION_TABLE1_OFFSET + 20, ByteBuffer.wrap(new byte[] {9})));
    try (VhdxReader r = VhdxReader.open(p)) {
      assertEquals(8 * MIB, r.size());
    }
    assertRefused("both region tables", ch -> {
      write(ch, VhdxFormat.REGION_TABLE1_OFFSET + 20, ByteBuffer.wrap(new byte[] {9}));
      write(ch, VhdxFormat.REGION_TABLE2_OFFSET + 20, ByteBuffer.wrap(new byte[] {9}));
    });
  }

  @Test
  void refusesUnknownRequiredRegionButSkipsOptionalOne() throws IOException {
    Consumer<ByteBuffer> addRegion = t -> {
      t.putInt(8, 3);
      VhdxFormat.putGuid(t, 80, UUID.fromString("11111111-2222-3333-4444-555555555555"));
      t.putLong(96, 6 * MIB);
      t.putInt(104, (int) MIB);
      t.putInt(108, 1);
    };
    assertRefused("unknown required region", ch -> editRegions(ch, addRegion));
    Path p = corrupted(ch -> editRegions(ch, addRegion.andThen(t -> t.putInt(108, 0))));
    VhdxReader.open(p).close();
  }

  @Test
  void refusesUnknownRequiredMetadataItem() throws IOException {
    assertRefused("unknown required metadata item", ch -> {
      ByteBuffer t = readAt(ch, METADATA, 256);
      t.putShort(10, (short) 6);
      VhdxFormat.putGuid(t, 32 + 5 * 32, UUID.randomUUID());
      t.putInt(32 + 5 * 32 + 16, 65536 + 100);
      t.putInt(32 + 5 * 32 + 20, 4);
      t.putInt(32 + 5 * 32 + 24, VhdxFormat.META_IS_REQUIRED);
      write(ch, METADATA, t);
    });
  }

  @Test
  void refusesDifferencingDisks() throws IOException {
    assertRefused("differencing", ch -> {
      ByteBuffer fp = readAt(ch, METADATA + 65536, 8);
      fp.putInt(4, fp.getInt(4) | VhdxFormat.PARAM_HAS_PARENT);
      write(ch, METADATA + 65536, fp);
    });
  }

  @Test
  void refusesAbsurdSizes() throws IOException {
    assertRefused("virtual disk size", ch -> {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 62);
      write(ch, METADATA + 65536 + 8, b);
    });
    assertRefused("block size", ch -> {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 3 << 20);
      write(ch, METADATA + 65536, b);
    });
    // 1 TiB at 1 MiB blocks needs an 8 MiB BAT; the region is 1 MiB
    assertRefused("too small", ch -> {
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
      write(ch, METADATA + 65536 + 8, b);
    });
  }

  @Test
  void refusesBatEntriesOutsideTheFileOrOverMetadata() throws IOException {
    assertRefused("outside the file", ch -> {
      ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, (1000 * MIB) | 6);
      write(ch, BAT + 8, e);
    });
    assertRefused("overlaps the metadata region", ch -> {
      ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, METADATA | 6);
      write(ch, BAT + 16, e);
    });
    assertRefused("overlap at file offset", ch -> {
      ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, (4 * MIB) | 6);
      write(ch, BAT + 24, e);
    });
    assertRefused("PARTIALLY_PRESENT", ch -> {
      ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, (4 * MIB) | 7);
      write(ch, BAT, e);
    });
  }

  @Test
  void payloadRangeRefusesHolesInTheBat() throws IOException {
    Path p = corrupted(ch -> write(ch, BAT + 8 * 3, ByteBuffer.allocate(8)));
    try (VhdxReader r = VhdxReader.open(p)) {
      VhdxFormatException e = assertThrows(VhdxFormatException.class, r::payloadRange);
      assertTrue(e.getMessage().contains("block 3"), e.getMessage());
      ByteBuffer b = ByteBuffer.allocate((int) MIB);
      r.readFully(3 * MIB, b);
      assertArrayEquals(new byte[(int) MIB], b.array());
    }
  }
}
