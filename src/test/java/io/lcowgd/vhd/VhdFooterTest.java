package io.lcowgd.vhd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.convert.ConvertOptions;
import io.lcowgd.convert.ConvertResult;
import io.lcowgd.testing.LayerChecks;
import io.lcowgd.testing.TarFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The fixed-VHD footer: fields, checksum, CHS geometry (qemu-img as the oracle) and validation. */
class VhdFooterTest {
  @TempDir Path tmp;

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
    return out;
  }

  @Test
  void fixedFooterFields() throws Exception {
    byte[] id = new byte[16];
    Arrays.fill(id, (byte) 7);
    VhdFooter f = VhdFooter.fixed(3 * 1024 * 1024, id);
    byte[] b = f.encode();
    assertEquals(512, b.length);
    assertArrayEquals("conectix".getBytes(), Arrays.copyOf(b, 8));
    ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
    assertEquals(2, v.getInt(8));
    assertEquals(0x00010000, v.getInt(12));
    assertEquals(-1L, v.getLong(16));
    assertEquals("lcow", new String(b, 28, 4));
    assertEquals(3L << 20, v.getLong(40));
    assertEquals(3L << 20, v.getLong(48));
    assertEquals(2, v.getInt(60));
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += i >= 64 && i < 68 ? 0 : b[i] & 0xFF;
    }
    assertEquals((int) ~sum, v.getInt(64));
    VhdFooter d = VhdFooter.decode(b);
    assertEquals(f, d);
    d.validateFixed(3 << 20);
    assertThrows(VhdFormatException.class, () -> d.validateFixed((3 << 20) + 512));
    b[100] = 1;
    VhdFormatException e = assertThrows(VhdFormatException.class, () -> VhdFooter.decode(b));
    assertTrue(e.getMessage().contains("checksum"));
    b[0] = 'X';
    assertThrows(VhdFormatException.class, () -> VhdFooter.decode(b));
    assertThrows(IllegalArgumentException.class, () -> VhdFooter.fixed(1000, id));
  }

  /** qemu-img computes the same CHS geometry when it creates fixed VHDs. */
  @ParameterizedTest
  @ValueSource(longs = {3L << 20, 100L << 20, 1L << 30, 40L << 30, 100L << 30})
  void chsGeometryMatchesQemu(long size) throws Exception {
    Path img = tmp.resolve("q.vhd");
    run("qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=fixed", img.toString(),
        Long.toString(size));
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(512);
      ch.read(b, ch.size() - 512);
      VhdFooter q = VhdFooter.decode(b.array());
      // qemu rounds the size up to whole cylinders; the spec algorithm on that size gives its geometry back.
      assertEquals(q.geometry(), VhdFooter.chsGeometry(q.currentSize()), "size " + size);
      assertTrue(q.currentSize() >= size);
      assertEquals(q.currentSize(), q.chsSize(), "qemu rounds to the geometry");
      assertEquals(q.currentSize(), VhdFooter.chsExactSize(q.currentSize()));
    } finally {
      Files.deleteIfExists(img);
    }
  }

  @Test
  void chsExactSizesAreDescribedExactly() {
    for (long s : new long[] {4096, 57344, 3 << 20, 123456789, 10L << 30, 100L << 30}) {
      long x = VhdFooter.chsExactSize(s);
      assertTrue(x >= s && x % 512 == 0);
      VhdFooter f = VhdFooter.fixed(x, new byte[16]);
      assertEquals(x, f.chsSize(), "size " + s);
      assertTrue(x - s < 16 * 255 * 512 * 2, "padding stays small for " + s);
    }
  }

  @Test
  void qemuReadsOurLayerAndConvertsBackToTheExt4Bytes() throws Exception {
    Path tar = TarFixtures.builder().file("a", "hello").dir("d").file("d/b", new byte[70_000]).write(tmp.resolve("t.tar"));
    Path vhd = tmp.resolve("layer.vhd");
    ConvertResult r = LayerChecks.convert(tar, vhd);
    String info = run("qemu-img", "info", "-f", "vpc", vhd.toString());
    long payload = r.imageSize() - 512;
    assertTrue(info.contains("virtual size: ") && info.contains("(" + payload + " bytes)"), info);
    Path raw = tmp.resolve("raw.img");
    run("qemu-img", "convert", "-f", "vpc", "-O", "raw", vhd.toString(), raw.toString());
    byte[] vhdBytes = Files.readAllBytes(vhd);
    assertArrayEquals(Arrays.copyOf(vhdBytes, (int) payload), Files.readAllBytes(raw));
    // The ext4 image without a footer is the same filesystem.
    Path plain = tmp.resolve("plain.img");
    ConvertResult r2 = LayerChecks.convert(tar, plain, ConvertOptions.defaults().withAppendVhdFooter(false));
    assertArrayEquals(Files.readAllBytes(plain), Arrays.copyOf(vhdBytes, (int) r2.ext4Size()));
    assertTrue(VhdFooter.isFixedVhd(vhd));
    assertFalse(VhdFooter.isFixedVhd(plain));
    assertFalse(VhdFooter.isFixedVhd(tar));
    List.of(raw, plain).forEach(p -> p.toFile().delete());
  }
}
