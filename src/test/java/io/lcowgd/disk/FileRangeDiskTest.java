package io.lcowgd.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileRangeDiskTest {

  @Test
  void readsWithinTheRangeAndRefusesBeyondIt(@TempDir Path dir) throws Exception {
    byte[] bytes = new byte[1000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) i;
    }
    Path f = dir.resolve("img");
    Files.write(f, bytes);
    try (FileRangeDisk d = FileRangeDisk.open(f, 100, 488)) {
      assertEquals(488, d.size());
      ByteBuffer b = ByteBuffer.allocate(10);
      d.readFully(5, b);
      byte[] want = new byte[10];
      System.arraycopy(bytes, 105, want, 0, 10);
      assertArrayEquals(want, b.array());
      assertThrows(EOFException.class, () -> d.readFully(480, ByteBuffer.allocate(9)));
      assertThrows(EOFException.class, () -> d.readFully(-1, ByteBuffer.allocate(1)));
      d.readFully(478, ByteBuffer.allocate(10));
    }
    assertThrows(EOFException.class, () -> FileRangeDisk.open(f, 900, 200));
  }
}
