package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.disk.FileRangeDisk;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-made corruptions (with debugfs and byte flips) each give an error naming the structure, never a hang. */
class Ext4ReaderHostileTest {
  @TempDir Path tmp;

  private Path image(String... debugfsCommands) throws IOException {
    Path img = tmp.resolve("h" + System.nanoTime() + ".img");
    Path src = Files.createDirectories(tmp.resolve("src" + System.nanoTime() + "/a/b"));
    Files.writeString(src.resolve("file"), "some content of the file\n".repeat(400));
    Posix.run("mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-d", src.getParent().getParent().toString(),
        img.toString(), "8M");
    for (String c : debugfsCommands) {
      Posix.run("debugfs", "-w", "-R", c, img.toString());
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
    String out = Posix.run("debugfs", "-R", "blocks " + path, img.toString());
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
  void notExt4IsAClearError() throws IOException {
    Path junk = tmp.resolve("junk.img");
    Files.write(junk, new byte[8192]);
    assertTrue(exportError(junk).contains("bad magic"));
  }
}
