package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.Main;
import io.lcowgd.testing.E2fsck;
import io.lcowgd.testing.TarFixtures;
import io.lcowgd.vhd.VhdFooter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lcow tar2vhd} through the launcher's entry point, and through a real process for stdin input. */
class Tar2VhdCommandTest {
  @TempDir Path tmp;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(List.of(args), new PrintStream(out, true), new PrintStream(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void convertsAFile() throws Exception {
    Path tar = TarFixtures.builder().file("etc/motd", "hi").write(tmp.resolve("in.tar"));
    Path vhd = tmp.resolve("out.vhd");
    Run r = run("tar2vhd", tar.toString(), vhd.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(VhdFooter.isFixedVhd(vhd));
    E2fsck.assertClean(vhd);
    assertTrue(Commands.all().stream().anyMatch(c -> c.name().equals("tar2vhd")));
  }

  @Test
  void usageErrorsExitWith2() {
    assertEquals(2, run("tar2vhd").code());
    assertEquals(2, run("tar2vhd", "a", "b", "c").code());
  }

  @Test
  void failuresExitWith1AndOneLineAndNoOutput() throws Exception {
    Path vhd = tmp.resolve("out.vhd");
    Run missing = run("tar2vhd", tmp.resolve("nope.tar").toString(), vhd.toString());
    assertEquals(1, missing.code());
    assertEquals(1, missing.err().strip().lines().count(), missing.err());
    Path evil = TarFixtures.builder().file("../escape", "x").write(tmp.resolve("evil.tar"));
    Run bad = run("tar2vhd", evil.toString(), vhd.toString());
    assertEquals(1, bad.code());
    assertEquals(1, bad.err().strip().lines().count(), bad.err());
    assertTrue(bad.err().contains("../escape"), bad.err());
    assertFalse(Files.exists(vhd));
  }

  @Test
  void readsStdinFromAPipeAndFromARedirectedFile() throws Exception {
    byte[] big = new byte[1 << 20];
    new Random(1).nextBytes(big);
    Path tar = TarFixtures.builder().file("a", "x").file("big", big).write(tmp.resolve("in.tar"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp = System.getProperty("java.class.path");
    // Redirected file: stdin is seekable, large entries take the direct-copy path.
    Path v1 = tmp.resolve("v1.vhd");
    Process p1 = new ProcessBuilder(java, "-cp", cp, "io.lcowgd.Main", "tar2vhd", "-", v1.toString())
        .redirectInput(tar.toFile()).redirectErrorStream(true).start();
    String o1 = new String(p1.getInputStream().readAllBytes());
    assertEquals(0, p1.waitFor(), o1);
    // Pipe: not seekable, buffered path; same bytes.
    Path v2 = tmp.resolve("v2.vhd");
    Process p2 = new ProcessBuilder("sh", "-c", "cat \"$0\" | \"$1\" -cp \"$2\" io.lcowgd.Main tar2vhd - \"$3\"",
        tar.toString(), java, cp, v2.toString()).redirectErrorStream(true).start();
    String o2 = new String(p2.getInputStream().readAllBytes());
    assertEquals(0, p2.waitFor(), o2);
    E2fsck.assertClean(v1);
    org.junit.jupiter.api.Assertions.assertArrayEquals(Files.readAllBytes(v1), Files.readAllBytes(v2));
  }
}
