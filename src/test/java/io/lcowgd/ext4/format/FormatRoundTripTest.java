package io.lcowgd.ext4.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Decode/encode round trips of every on-disk record over seeded random bytes, and field-level checks. */
class FormatRoundTripTest {

  private static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 1234567})
  void superblockRoundTripsEveryByte(long seed) {
    byte[] in = random(seed, Superblock.SIZE);
    ByteBuffer src = ByteBuffer.wrap(in);
    Superblock sb = Superblock.decode(src);
    assertEquals(Superblock.SIZE, src.position());
    ByteBuffer out = ByteBuffer.allocate(Superblock.SIZE);
    sb.encode(out);
    assertEquals(Superblock.SIZE, out.position());
    assertArrayEquals(in, out.array(), "seed " + seed);
  }

  @Test
  void superblockFieldsAtNamedOffsets() {
    Superblock sb = new Superblock();
    sb.blocksCountLo = 0x89ABCDEFL;
    sb.blocksCountHi = 0x12;
    sb.featureIncompat = IncompatFeature.BIT64.mask() | IncompatFeature.EXTENTS.mask();
    sb.featureRoCompat = 0x8000_0000L | RoCompatFeature.HUGE_FILE.mask();
    sb.logBlockSize = 2;
    ByteBuffer out = ByteBuffer.allocate(Superblock.SIZE);
    sb.encode(out);
    assertEquals((byte) 0xEF, out.get(Superblock.S_BLOCKS_COUNT_LO));
    assertEquals((byte) 0x89, out.get(Superblock.S_BLOCKS_COUNT_LO + 3));
    assertEquals((byte) 0x53, out.get(Superblock.S_MAGIC));
    assertEquals((byte) 0xEF, out.get(Superblock.S_MAGIC + 1));
    assertEquals(0x12_89AB_CDEFL, sb.blocksCount());
    assertEquals(4096, sb.blockSize());
    assertTrue(sb.has(IncompatFeature.BIT64));
    assertEquals(java.util.EnumSet.of(RoCompatFeature.HUGE_FILE), sb.roCompatFeatures());
    assertEquals(0x8000_0000L, sb.unknownFeatureBits()[2]);
  }

  @ParameterizedTest
  @ValueSource(ints = {32, 64, 128})
  void groupDescriptorRoundTrips(int size) {
    byte[] in = random(size, size);
    if (size > 64) {
      java.util.Arrays.fill(in, 64, size, (byte) 0);
    }
    GroupDescriptor g = GroupDescriptor.decode(ByteBuffer.wrap(in), size);
    ByteBuffer out = ByteBuffer.allocate(size);
    g.encode(out, size);
    assertArrayEquals(in, out.array());
    if (size == 32) {
      assertEquals(0, g.blockBitmapHi);
      assertEquals(g.blockBitmapLo, g.blockBitmap());
    } else {
      assertEquals(g.blockBitmapLo | g.blockBitmapHi << 32, g.blockBitmap());
    }
    assertThrows(IllegalArgumentException.class, () -> GroupDescriptor.decode(ByteBuffer.allocate(64), 48));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 4, 24, 28, 32})
  void inodeRoundTripsBaseAndExtra(int extraIsize) {
    byte[] in = random(extraIsize + 7, 256);
    in[Inode.I_EXTRA_ISIZE] = (byte) extraIsize;
    in[Inode.I_EXTRA_ISIZE + 1] = 0;
    Inode i = Inode.decode(ByteBuffer.wrap(in), 256);
    assertEquals(extraIsize, i.extraIsize);
    ByteBuffer out = ByteBuffer.allocate(256);
    i.encode(out, 256);
    int end = Inode.BASE_SIZE + extraIsize;
    assertArrayEquals(java.util.Arrays.copyOf(in, end), java.util.Arrays.copyOf(out.array(), end));
    for (int k = end; k < 256; k++) {
      assertEquals(0, out.get(k), "byte " + k + " past extra fields must be untouched");
    }
  }

  @Test
  void inodeCombinedFields() {
    Inode i = new Inode();
    i.setSize(5L << 32 | 7);
    i.setUid(100_000);
    i.setGid(70_000);
    i.setBlocks(1L << 40 | 3);
    i.setFileAcl(1L << 33 | 9);
    i.extraIsize = 32;
    ByteBuffer b = ByteBuffer.allocate(256);
    i.encode(b, 256);
    Inode d = Inode.decode(b.flip(), 256);
    assertEquals(5L << 32 | 7, d.size());
    assertEquals(100_000, d.uid32());
    assertEquals(70_000, d.gid32());
    assertEquals(1L << 40 | 3, d.blocks());
    assertEquals(1L << 33 | 9, d.fileAcl());
  }

  @Test
  void deviceNumbersOldAndNewEncoding() {
    Inode i = new Inode();
    i.setDeviceNumbers(1, 3);
    assertEquals(0x0103, ByteBuffer.wrap(i.block).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(0));
    assertArrayEquals(new long[] {1, 3}, i.deviceNumbers());
    i.setDeviceNumbers(259, 70000);
    assertEquals(0, ByteBuffer.wrap(i.block).getInt(0));
    assertArrayEquals(new long[] {259, 70000}, i.deviceNumbers());
    i.setDeviceNumbers(0, 0);
    assertArrayEquals(new long[] {0, 0}, i.deviceNumbers());
  }

  @Test
  void timestampsIncludingPre1970AndFarFuture() {
    long[][] cases = {{0, 0}, {-1, 999_999_999}, {Integer.MIN_VALUE, 5}, {Integer.MAX_VALUE, 1},
      {1L << 31, 0}, {1L << 33, 123}, {Ext4Time.MAX_SECONDS, 999_999_999}, {-86400L * 365 * 50, 250}};
    for (long[] c : cases) {
      long lo = Ext4Time.encodeSeconds(c[0]);
      long ex = Ext4Time.encodeExtra(c[0], (int) c[1]);
      assertEquals(c[0], Ext4Time.decodeSeconds(lo, ex), "seconds " + c[0]);
      assertEquals(c[1], Ext4Time.decodeNanos(ex), "nanos for " + c[0]);
    }
    assertEquals(0, Ext4Time.encodeExtra(-1, 0), "negative times need no epoch bits");
    assertEquals(Ext4Time.MIN_SECONDS, Ext4Time.decodeSeconds(Ext4Time.encodeSeconds(Long.MIN_VALUE / 2),
        Ext4Time.encodeExtra(Long.MIN_VALUE / 2, 0)));
  }

  @Test
  void extentRecordsRoundTrip() {
    ExtentHeader h = ExtentHeader.of(3, 4, 1);
    ExtentLeaf l = new ExtentLeaf(0xFFFF_FFFEL, 32768, 0xABCD_1234_5678L);
    ExtentIndex x = new ExtentIndex(77, 0x1_0000_0002L, 0);
    ByteBuffer b = ByteBuffer.allocate(36);
    h.encode(b);
    l.encode(b);
    x.encode(b);
    b.flip();
    assertEquals((byte) 0x0A, b.get(0));
    assertEquals((byte) 0xF3, b.get(1));
    assertEquals(h, ExtentHeader.decode(b));
    assertEquals(l, ExtentLeaf.decode(b));
    assertEquals(x, ExtentIndex.decode(b));
    assertFalse(l.unwritten());
    assertTrue(new ExtentLeaf(0, 32769, 1).unwritten());
    assertEquals(1, new ExtentLeaf(0, 32769, 1).length());
    assertEquals(340, ExtentHeader.blockCapacity(4096));
  }

  @Test
  void directoryEntriesRoundTrip() {
    byte[] name = "hello.txt".getBytes(StandardCharsets.UTF_8);
    assertEquals(20, DirectoryEntry.minRecLen(name.length));
    ByteBuffer b = ByteBuffer.allocate(64);
    new DirectoryEntry(12, 20, DirectoryEntry.FT_REG_FILE, name).encode(b);
    new DirectoryEntry(13, 32, DirectoryEntry.fileTypeOf(Inode.S_IFDIR | 0755), new byte[] {'d'}).encode(b);
    DirectoryEntry.encodeTail(b, 0xCAFEBABEL);
    b.flip();
    DirectoryEntry e1 = DirectoryEntry.decode(b);
    assertEquals(12, e1.inode());
    assertEquals("hello.txt", e1.nameString());
    DirectoryEntry e2 = DirectoryEntry.decode(b);
    assertEquals(DirectoryEntry.FT_DIR, e2.fileType());
    assertEquals(32, e2.recLen());
    DirectoryEntry t = DirectoryEntry.decode(b);
    assertTrue(t.isTail());
    assertEquals(0, b.remaining());
    ByteBuffer bad = ByteBuffer.allocate(16);
    bad.putShort(4, (short) 4);
    assertThrows(IllegalArgumentException.class, () -> DirectoryEntry.decode(bad.order(java.nio.ByteOrder.LITTLE_ENDIAN)));
  }

  @Test
  void xattrEntriesNamesAndHashes() {
    Xattr.Name n = Xattr.split("security.capability");
    assertEquals(6, n.index());
    assertEquals("capability", new String(n.suffix(), StandardCharsets.UTF_8));
    assertEquals(2, Xattr.split("system.posix_acl_access").index());
    assertEquals(0, Xattr.split("system.posix_acl_access").suffix().length);
    assertEquals(7, Xattr.split("system.data").index());
    assertEquals(4, Xattr.split("trusted.overlay.opaque").index());
    assertEquals("trusted.overlay.opaque", Xattr.join(4, "overlay.opaque".getBytes(StandardCharsets.UTF_8)));
    // Hash by hand for name "a", value "y": name step h = 'a' = 0x61; value word 'y' = 0x79.
    int h = (0x61 << 16) ^ (0x61 >>> 16) ^ 0x79;
    assertEquals(h, Xattr.entryHash(new byte[] {'a'}, new byte[] {'y'}));
    XattrEntry e = new XattrEntry(4, 100, 0, 1, h & 0xFFFF_FFFFL, "a".getBytes(StandardCharsets.UTF_8));
    ByteBuffer b = ByteBuffer.allocate(32);
    e.encode(b);
    assertEquals(20, b.position());
    b.putInt(0);
    b.flip();
    XattrEntry d = XattrEntry.decode(b);
    assertEquals(e.hash(), d.hash());
    assertEquals(100, d.valueOffs());
    assertArrayEquals(e.name(), d.name());
    assertTrue(XattrEntry.isEnd(b));
    assertEquals((h << 16) ^ (h >>> 16) ^ h, Xattr.blockHash(List.of(e, e)));
    XattrBlockHeader hdr = new XattrBlockHeader(Xattr.MAGIC, 1, 1, 5, 6);
    ByteBuffer hb = ByteBuffer.allocate(XattrBlockHeader.SIZE);
    hdr.encode(hb);
    assertEquals(hdr, XattrBlockHeader.decode(hb.flip()));
  }
}
