package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.Main;
import io.lcowgd.convert.ConvertOptions;
import io.lcowgd.convert.TarToExt4;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vhd2tar and inspect launcher commands, through {@link Main#run} as the launcher calls them. */
class ReaderCommandsTest {
  @TempDir Path tmp;

  private Path vhd() throws Exception {
    byte[] tar = TarFixtures.builder()
        .dir("etc")
        .file("etc/hosts", "127.0.0.1 localhost\n")
        .file("etc/.wh.group", new byte[0])
        .symlink("link", "etc/hosts")
        .toBytes();
    Path v = tmp.resolve("layer.vhd");
    TarToExt4.convert(new ByteArrayInputStream(tar), v, ConvertOptions.defaults());
    return v;
  }

  private record Run(int code, byte[] out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(List.of(args), new PrintStream(out, true), new PrintStream(err, true));
    return new Run(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void vhd2tarWritesTheLayerTar() throws Exception {
    Run r = run("vhd2tar", vhd().toString());
    assertEquals(0, r.code(), r.err());
    List<String> names = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(r.out()))) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        names.add(e.getName());
      }
    }
    assertEquals(List.of("etc/", "etc/.wh.group", "etc/hosts", "link"), names);
  }

  @Test
  void inspectShowsContainerFeaturesAndTree() throws Exception {
    Run r = run("inspect", vhd().toString());
    assertEquals(0, r.code(), r.err());
    String s = new String(r.out(), StandardCharsets.UTF_8);
    assertTrue(s.contains("container:        VHD_FIXED"), s);
    assertTrue(s.contains("features:") && s.contains("extent"), s);
    assertTrue(s.contains("/etc:") && s.contains(" hosts") && s.contains("group (whiteout)")
        && s.contains("link -> etc/hosts"), s);
  }

  @Test
  void errorsAreOneLineWithNonZeroExit() throws Exception {
    Path junk = Files.write(tmp.resolve("junk"), new byte[4096]);
    Run r = run("inspect", junk.toString());
    assertEquals(1, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("bad magic"), r.err());
    assertEquals(2, run("vhd2tar").code());
    assertEquals(2, run("vhd2tar", "--bogus", "x").code());
    Path vhdx = Files.write(tmp.resolve("s.img"), "vhdxfile........".getBytes(StandardCharsets.US_ASCII));
    Run x = run("vhd2tar", vhdx.toString());
    assertEquals(1, x.code());
    assertTrue(x.err().contains("s.img: file is 16 bytes, shorter than the 1 MiB header section"), x.err());
    assertEquals(1, x.err().strip().lines().count(), x.err());
  }
}
