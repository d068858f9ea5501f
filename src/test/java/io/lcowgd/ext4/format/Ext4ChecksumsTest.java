package io.lcowgd.ext4.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the checksum helpers against images made by {@code mke2fs} (the independent oracle). */
class Ext4ChecksumsTest {
  @TempDir Path tmp;

  @Test
  void rawCrc32cMatchesJdkConvention() {
    byte[] data = "123456789".getBytes();
    CRC32C c = new CRC32C();
    c.update(data);
    assertEquals((int) c.getValue(), ~Ext4Checksums.crc32c(~0, data));
    assertEquals(0xE3069283, (int) c.getValue());
    // Chaining: crc(crc(s, a), b) == crc(s, a + b), from an arbitrary seed.
    int s = 0x12345678;
    assertEquals(Ext4Checksums.crc32c(s, data), Ext4Checksums.crc32c(Ext4Checksums.crc32c(s, data, 0, 4), data, 4, 5));
    // crc16/ARC check value.
    assertEquals(0xBB3D, Ext4Checksums.crc16(0, data, 0, data.length));
  }

  private ByteBuffer mkfs(String features) throws IOException, InterruptedException {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("f"), "content");
    Path img = tmp.resolve("img-" + features.hashCode());
    Process p = new ProcessBuilder("mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-O", features,
        "-E", "lazy_itable_init=0", "-d", src.toString(), img.toString(), "16M")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    return ByteBuffer.wrap(Files.readAllBytes(img)).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void metadataCsumMatchesMke2fs() throws Exception {
    ByteBuffer img = mkfs("metadata_csum,64bit,^resize_inode");
    ByteBuffer sbBuf = img.slice(1024, 1024);
    Superblock sb = Superblock.decode(sbBuf.duplicate());
    assertTrue(sb.has(RoCompatFeature.METADATA_CSUM));
    ByteBuffer re = ByteBuffer.allocate(1024);
    sb.encode(re);
    assertArrayEquals(bytes(sbBuf), re.array(), "real superblock round trip");
    assertEquals((int) sb.checksum, Ext4Checksums.superblock(sbBuf));
    int seed = Ext4Checksums.seed(sb);
    int bs = sb.blockSize();
    int ds = sb.groupDescriptorSize();
    assertEquals(64, ds);
    ByteBuffer gdt = img.slice(bs, ds);
    GroupDescriptor g = GroupDescriptor.decode(gdt.duplicate(), ds);
    assertEquals(g.checksum, Ext4Checksums.groupDescriptor(sb, 0, gdt));
    int bbc = Ext4Checksums.blockBitmap(seed, img.slice((int) (g.blockBitmap() * bs), bs), sb.clustersPerGroup);
    assertEquals(g.blockBitmapCsumLo | g.blockBitmapCsumHi << 16, bbc);
    int ibc = Ext4Checksums.inodeBitmap(seed, img.slice((int) (g.inodeBitmap() * bs), bs), sb.inodesPerGroup);
    assertEquals(g.inodeBitmapCsumLo | g.inodeBitmapCsumHi << 16, ibc);
    // Root inode (2) and the file (12).
    for (int ino : List.of(2, 11, 12)) {
      ByteBuffer ib = img.slice((int) (g.inodeTable() * bs + (ino - 1) * sb.inodeSize), sb.inodeSize);
      Inode inode = Inode.decode(ib.duplicate(), sb.inodeSize);
      int c = Ext4Checksums.inode(seed, ino, ib, sb.inodeSize);
      assertEquals(inode.checksumLo | inode.checksumHi << 16, c, "inode " + ino);
      if (ino == 2) {
        // Root directory block: tail checksum.
        ExtentLeaf leaf = ExtentLeaf.decode(ByteBuffer.wrap(inode.block, ExtentHeader.SIZE, 12));
        ByteBuffer dir = img.slice((int) (leaf.startBlock() * bs), bs);
        int stored = dir.order(ByteOrder.LITTLE_ENDIAN).getInt(bs - 4);
        assertEquals(stored, Ext4Checksums.dirBlock(seed, ino, inode.generation, dir, bs));
      }
    }
  }

  @Test
  void gdtCsumMatchesMke2fs() throws Exception {
    ByteBuffer img = mkfs("^metadata_csum,uninit_bg,^64bit");
    Superblock sb = Superblock.decode(img.slice(1024, 1024));
    assertTrue(sb.has(RoCompatFeature.GDT_CSUM));
    assertEquals(32, sb.groupDescriptorSize());
    ByteBuffer gdt = img.slice(sb.blockSize(), 32);
    GroupDescriptor g = GroupDescriptor.decode(gdt.duplicate(), 32);
    assertEquals(g.checksum, Ext4Checksums.groupDescriptor(sb, 0, gdt));
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.duplicate().get(a);
    return a;
  }
}
