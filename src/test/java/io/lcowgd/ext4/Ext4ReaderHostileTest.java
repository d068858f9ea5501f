package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.Xattrs;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-made corruptions (with debugfs and byte flips) each give an error naming the structure, never a hang. */
class Ext4ReaderHostileTest {
  @TempDir Path tmp;

  private Path image(String... debugfsCommands) throws IOException {
    Path img = tmp.resolve("h" + System.nanoTime() + ".img");
    Path src = Files.createDirectories(tmp.resolve("src" + System.nanoTime() + "/a/b"));
    Files.writeString(src.resolve("file"), "some content of the file\n".repeat(400));
    HostTools.check("mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-d", src.getParent().getParent().toString(),
        img.toString(), "8M");
    for (String c : debugfsCommands) {
      HostTools.check("debugfs", "-w", "-R", c, img.toString());
    }
    return img;
  }

  private static String exportError(Path img) {
    IOException e = assertThrows(IOException.class, () -> {
      try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
        Ext4ToTar.export(r, ExportMode.LAYER, OutputStream.nullOutputStream());
      }
    });
    return e.getMessage();
  }

  private static long blockOf(Path img, String path) throws IOException {
    String out = HostTools.check("debugfs", "-R", "blocks " + path, img.toString());
    return Long.parseLong(out.lines().filter(l -> l.matches("[0-9 ]+")).findFirst().orElseThrow().trim()
        .split(" ")[0]);
  }

  private static void poke(Path img, long offset, int value) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
      f.seek(offset);
      f.write(value);
    }
  }

  @Test
  void directoryLoopIsDetected() throws IOException {
    Path img = image("link a a/b/loop");
    String m = exportError(img);
    assertTrue(m.contains("reachable twice") && m.contains("a/b/loop"), m);
  }

  @Test
  void directoryBlocksSharedBetweenDirectoriesAreRejected() throws IOException {
    Path img = image();
    long aBlock = blockOf(img, "a");
    HostTools.check("debugfs", "-w", "-R", "sif a/b block[5] " + aBlock, img.toString());
    String m = exportError(img);
    assertTrue(m.contains("directory block " + aBlock + " is shared by directory inodes"), m);
  }

  @Test
  void extentPointingOutsideTheFilesystemIsNamed() throws IOException {
    Path img = image("sif a/b/file block[5] 9999999");
    String m = exportError(img);
    assertTrue(m.contains("outside the filesystem") && m.contains("inode"), m);
  }

  @Test
  void absurdFileSizeIsRejected() throws IOException {
    Path img = image("sif a/b/file size 0x7fffffffffffff");
    String m = exportError(img);
    assertTrue(m.contains("absurd size"), m);
  }

  @Test
  void truncatedImageIsRejected() throws IOException {
    Path img = image();
    try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    assertTrue(exportError(img).contains("image truncated"));
  }

  @Test
  void checksumMismatchesNameTheStructure() throws IOException {
    Path img = image();
    poke(img, 1024 + 0x200, 0x5A);
    assertTrue(exportError(img).startsWith("superblock: checksum mismatch"), exportError(img));

    Path img2 = image();
    long dirBlock = blockOf(img2, "a/b");
    poke(img2, dirBlock * 4096 + 30, 0x41);
    String m = exportError(img2);
    assertTrue(m.contains("directory block " + dirBlock) && m.contains("checksum mismatch"), m);

    Path img3 = image();
    poke(img3, 4096 + 0x0C, 0x77); // group descriptor 0, free-blocks count
    assertTrue(exportError(img3).startsWith("group descriptor 0: checksum mismatch"), exportError(img3));
  }

  @Test
  void inodeExtentBlockAndXattrBlockChecksumsAreVerified() throws IOException {
    Path img = KernelImages.build(tmp.resolve("k.img"), 16, List.of("-b", "4096"), r -> {
      try (RandomAccessFile f = new RandomAccessFile(r.resolve("frag").toFile(), "rw")) {
        for (int i = 0; i < 20; i++) {
          f.seek(i * 8192L);
          f.write(new byte[4096]);
        }
      }
      Files.writeString(r.resolve("x"), "x");
      Xattrs.set(r.resolve("x"), "user.big", new byte[2000]);
    });
    long inodeOff;
    long extentBlock;
    long xattrBlock;
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
      Ext4Inode frag = r.lookup("frag").orElseThrow();
      inodeOff = r.inodeOffset(frag.number());
      extentBlock = Integer.toUnsignedLong(Ext4Inode.le32(frag.iblock(), 16)); // first index entry's leaf
      xattrBlock = r.lookup("x").orElseThrow().fileAclBlock();
      assertTrue(Ext4Inode.le16(frag.iblock(), 6) >= 1 && xattrBlock != 0, "fixture needs a tree and an xattr block");
    }
    Path a = Files.copy(img, tmp.resolve("a.img"));
    poke(a, inodeOff + 0x10, 0x33); // mtime byte
    String m = exportError(a);
    assertTrue(m.contains("inode ") && m.contains("checksum mismatch"), m);
    Path b = Files.copy(img, tmp.resolve("b.img"));
    poke(b, extentBlock * 4096 + 12 + 4, 0x07); // length of the first leaf extent
    m = exportError(b);
    assertTrue(m.contains("extent block " + extentBlock) && m.contains("checksum mismatch"), m);
    Path c = Files.copy(img, tmp.resolve("c.img"));
    poke(c, xattrBlock * 4096 + 100, 0x01);
    m = exportError(c);
    assertTrue(m.contains("xattr block " + xattrBlock) && m.contains("checksum mismatch"), m);
  }

  @Test
  void notExt4IsAClearError() throws IOException {
    Path junk = tmp.resolve("junk.img");
    Files.write(junk, new byte[8192]);
    assertTrue(exportError(junk).contains("bad magic"));
  }
}
