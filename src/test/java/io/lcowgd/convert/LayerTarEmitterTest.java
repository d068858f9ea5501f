package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lcowgd.convert.LayerTarEmitter.FileName;
import io.lcowgd.convert.LayerTarEmitter.Kind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The emitter's one entry point for a name that may be a later name of a file already written (what the host export
 * and the guest-tar rewriter both call), read back with the independent {@link RawTar} reader.
 */
class LayerTarEmitterTest {
  private static final Instant T = Instant.ofEpochSecond(1_000, 5);

  @Test
  void laterNamesOfRegularFilesDevicesAndFifosLinkToTheFirstNameSymlinksAndWhiteoutsNever() throws IOException {
    AtomicInteger copies = new AtomicInteger();
    LayerTarEmitter.Data hi = out -> {
      copies.incrementAndGet();
      out.write("hi".getBytes(StandardCharsets.US_ASCII));
    };
    List<FileName> names = List.of(
        name("d", Kind.DIRECTORY, 0755, Map.of("trusted.overlay.opaque", "y", "user.d", "1"), null),
        name("d/f", Kind.REGULAR, 0640, Map.of("user.x", "1", "trusted.overlay.origin", "o"), 7L),
        name("d/g", Kind.REGULAR, 0600, Map.of("user.x", "1"), 7L),
        name("d/solo", Kind.REGULAR, 0644, Map.of(), null),
        name("p", Kind.FIFO, 0644, Map.of(), 8L),
        name("p2", Kind.FIFO, 0600, Map.of(), 8L),
        device("c", Kind.CHAR_DEVICE, 1, 3, 9L),
        device("c2", Kind.CHAR_DEVICE, 1, 3, 9L),
        device("b", Kind.BLOCK_DEVICE, 7, 0, 10L),
        device("b2", Kind.BLOCK_DEVICE, 7, 0, 10L),
        device("w", Kind.CHAR_DEVICE, 0, 0, 11L),
        device("w2", Kind.CHAR_DEVICE, 0, 0, 11L),
        symlink("s", 12L),
        symlink("s2", 12L),
        name("sock", Kind.SOCKET, 0755, Map.of(), 13L),
        name("z", Kind.REGULAR, 0644, Map.of(), 14L));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerTarEmitter em = new LayerTarEmitter(out, true);
    for (FileName n : names) {
      em.emit(n, n.kind() == Kind.REGULAR ? hi : LayerTarEmitter.NO_DATA);
    }
    em.finish();
    List<String> got = new ArrayList<>();
    for (RawTar.Entry e : RawTar.read(out.toByteArray())) {
      got.add(e.name() + " " + e.type() + " " + Integer.toOctalString(e.mode() & 07777) + " " + e.size() + " "
          + e.link() + " " + e.devMajor() + "," + e.devMinor() + " " + e.xattrs().keySet());
    }
    assertEquals(List.of(
        "d/ 5 755 0  0,0 [user.d]",
        "d/.wh..wh..opq 0 755 0  0,0 []",
        "d/f 0 640 2  0,0 [user.x]",
        "d/g 1 600 0 d/f 0,0 [user.x]",
        "d/solo 0 644 2  0,0 []",
        "p 6 644 0  0,0 []",
        "p2 1 600 0 p 0,0 []",
        "c 3 644 0  1,3 []",
        "c2 1 644 0 c 0,0 []",
        "b 4 644 0  7,0 []",
        "b2 1 644 0 b 0,0 []",
        ".wh.w 0 600 0  0,0 []",
        ".wh.w2 0 600 0  0,0 []",
        "s 2 777 0 t\u00e9 0,0 [user.s]",
        "s2 2 777 0 t\u00e9 0,0 [user.s]",
        "z 0 644 2  0,0 []"), got);
    assertEquals(3, copies.get(), "data copied for the names written in full only");
    assertEquals(6, em.dataBytes());
  }

  @Test
  void inodeKeysAreOpaqueIdentitiesAndNullMeansOneName() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    LayerTarEmitter em = new LayerTarEmitter(out, false);
    LayerTarEmitter.Data one = o -> o.write(new byte[] {1, 2});
    em.emit(name("a", Kind.REGULAR, 0644, Map.of(), null), one);
    em.emit(name("b", Kind.REGULAR, 0644, Map.of(), null), one); // no identity: never a link
    em.emit(name("c", Kind.REGULAR, 0644, Map.of(), List.of("img1", 5)), one);
    em.emit(name("e", Kind.REGULAR, 0644, Map.of(), List.of("img2", 5)), one); // same number, other image
    em.emit(name("f", Kind.REGULAR, 0644, Map.of(), List.of("img1", 5)), LayerTarEmitter.NO_DATA);
    em.emit(name("o", Kind.DIRECTORY, 0755, Map.of("trusted.overlay.opaque", "y"), null), LayerTarEmitter.NO_DATA);
    em.finish();
    List<String> got = RawTar.read(out.toByteArray()).stream().map(e -> e.name() + " " + e.type() + " " + e.link())
        .toList();
    assertEquals(List.of("a 0 ", "b 0 ", "c 0 ", "e 0 ", "f 1 c", "o/ 5 "), got, "no opaque marker when off");
  }

  @Test
  void aFirstNameWithoutDataFailsInsteadOfWritingAShortEntry() {
    LayerTarEmitter em = new LayerTarEmitter(new ByteArrayOutputStream(), true);
    FileName f = new FileName("f", Kind.REGULAR, 0644, 0, 0, T, 3, null, 0, 0, Map.of(), 1L);
    assertThrows(IOException.class, () -> em.emit(f, LayerTarEmitter.NO_DATA));
  }

  private static FileName name(String path, Kind kind, int perm, Map<String, String> xattrs, Object inode) {
    Map<String, byte[]> x = new java.util.TreeMap<>();
    xattrs.forEach((k, v) -> x.put(k, v.getBytes(StandardCharsets.ISO_8859_1)));
    return new FileName(path, kind, perm, 0, 0, T, kind == Kind.REGULAR ? 2 : 0, null, 0, 0, x, inode);
  }

  private static FileName device(String path, Kind kind, int major, int minor, Object inode) {
    return new FileName(path, kind, 0644, 0, 0, T, 0, null, major, minor, Map.of(), inode);
  }

  private static FileName symlink(String path, Object inode) {
    return new FileName(path, Kind.SYMLINK, 0777, 0, 0, T, 0, "t\u00c3\u00a9", 0, 0, // the UTF-8 bytes of "té"
        Map.of("user.s", "v".getBytes(StandardCharsets.US_ASCII)), inode);
  }
}
