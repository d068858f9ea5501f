package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.lcowgd.testing.TarBytes;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Malformed and hostile layer tars: a clear one-line error naming the entry, and no output file left behind. */
class HostileTarTest {
  @TempDir Path tmp;

  /** Converts (from a stream, and from a file) expecting failure; returns the message. */
  private String fails(byte[] tar, String... mustContain) throws Exception {
    String msg = null;
    for (boolean fromFile : new boolean[] {false, true}) {
      Path out = tmp.resolve("out-" + fromFile + ".vhd");
      Path in = Files.write(tmp.resolve("in.tar"), tar);
      IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(IOException.class, () -> {
        try (InputStream s = fromFile ? new FileInputStream(in.toFile()) : new ByteArrayInputStream(tar)) {
          TarToExt4.convert(s, out, ConvertOptions.defaults().withMaxDiskSize(1L << 30));
        }
      }));
      msg = e.getMessage();
      assertFalse(msg.contains("\n"), "one line: " + msg);
      for (String s : mustContain) {
        assertTrue(msg.toLowerCase().contains(s.toLowerCase()), "message '" + msg + "' should contain '" + s + "'");
      }
      assertFalse(Files.exists(out), "no output file left behind");
    }
    return msg;
  }

  @ParameterizedTest
  @ValueSource(strings = {"../x", "a/../../x", "./../etc/passwd", "/../x", "a/b/../../../x"})
  void namesClimbingOutOfTheRootAreRejected(String name) throws Exception {
    fails(TarFixtures.builder().file("ok", "1").file(name, "evil").toBytes(), name, "climbs out");
  }

  @Test
  void hardLinkTargetsClimbingOutAreRejected() throws Exception {
    fails(TarFixtures.builder().file("ok", "1").hardlink("h", "../../etc/shadow").toBytes(), "'h'", "climbs out");
  }

  @Test
  void hardLinkToMissingTarget() throws Exception {
    fails(TarFixtures.builder().file("a", "1").hardlink("link", "nothing/here").toBytes(), "'link'", "nothing/here");
  }

  @Test
  void hardLinkToDirectory() throws Exception {
    fails(TarFixtures.builder().dir("d").hardlink("link", "d").toBytes(), "'link'", "directory");
  }

  @Test
  void nameComponentLongerThan255Bytes() throws Exception {
    fails(TarFixtures.builder().file("d/" + "x".repeat(256), "1").toBytes(), "255");
  }

  @Test
  void symlinkedParentCannotEscapeTheRoot() throws Exception {
    // "up" points far above the root: resolution stops at the layer root, so x lands at /etc/x inside the layer.
    byte[] t = TarFixtures.builder().dir("etc").symlink("up", "../../../../etc").file("up/x", "1").toBytes();
    java.nio.file.Path out = tmp.resolve("ok.vhd");
    io.lcowgd.testing.LayerChecks.convertStream(new ByteArrayInputStream(t), out, ConvertOptions.defaults());
    try (io.lcowgd.testing.LoopMount m = io.lcowgd.testing.LayerChecks.mount(out)) {
      assertTrue(Files.exists(m.root().resolve("etc/x")));
    }
  }

  @Test
  void parentThatIsAFile() throws Exception {
    fails(TarFixtures.builder().file("f", "1").file("f/child", "2").toBytes(), "'f/child'", "not a directory");
  }

  @Test
  void truncatedTarInData() throws Exception {
    byte[] data = new byte[400_000];
    new Random(5).nextBytes(data);
    byte[] full = TarFixtures.builder().file("a", "1").file("big", data).toBytes();
    fails(Arrays.copyOf(full, 512 * 4 + 100_000), "'big'", "truncated");
  }

  @Test
  void truncatedTarInHeader() throws Exception {
    byte[] full = TarFixtures.builder().file("a", "1").file("b", "2").toBytes();
    fails(Arrays.copyOf(full, 512 * 3 + 200));
  }

  @Test
  void badHeaderChecksum() throws Exception {
    byte[] full = TarFixtures.builder().file("a", "1").file("b", "2").toBytes();
    // Entry "a" has a PAX header (mtime) + header + 1 data record; corrupt the name of the next ustar header.
    int second = TarBytes.indexOf(full, "b".getBytes(StandardCharsets.US_ASCII), 512 * 3);
    assertTrue(second > 0, "the second header's name");
    full[second + 1] = 'Z';
    fails(full, "after entry 'a'");
  }

  @Test
  void notATarAtAll() throws Exception {
    byte[] junk = new byte[8192];
    new Random(9).nextBytes(junk);
    fails(junk, "bad tar header");
  }

  @Test
  void absurdSizes() throws Exception {
    fails(TarFixtures.builder().fileWithRawPax("huge", new byte[0], 0100644,
        Map.of("size", "1000000000000000000".getBytes(StandardCharsets.US_ASCII))).toBytes());
    // A plausible size beyond the maximum disk size (1 GiB in these tests), with the data missing.
    byte[] t = TarFixtures.builder().fileWithRawPax("big", new byte[0], 0100644,
        Map.of("size", Long.toString(3L << 30).getBytes(StandardCharsets.US_ASCII))).toBytes();
    fails(t, "'big'");
  }

  @Test
  void hugePaxRecordLengthDoesNotExhaustMemory() throws Exception {
    byte[] body = "2000000000 comment=x\n".getBytes(StandardCharsets.US_ASCII);
    fails(TarFixtures.builder().file("a", "1").fileWithPaxBody("p", new byte[0], 0100644, body).toBytes());
    byte[] body2 = "30 comment=x\n".getBytes(StandardCharsets.US_ASCII);
    fails(TarFixtures.builder().fileWithPaxBody("p", new byte[0], 0100644, body2).toBytes());
  }

  @Test
  void uidOutOfRange() throws Exception {
    fails(TarFixtures.builder().fileWithRawPax("u", new byte[0], 0100644,
        Map.of("uid", "99999999999".getBytes(StandardCharsets.US_ASCII))).toBytes(), "'u'", "uid");
  }

  @Test
  void invalidUtf8Name() throws Exception {
    fails(TarFixtures.builder().fileWithRawPax("x", new byte[0], 0100644,
        Map.of("path", new byte[] {'b', (byte) 0xFF, 'd'})).toBytes(), "UTF-8");
  }

}
