package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ACL entries granted and revoked on real files, checked by the kernel's own access decisions for those uids. */
class PosixAclTest {
  private static final int A = 1879113700;
  private static final int B = 1879113701;

  @TempDir Path tmp;

  @BeforeEach
  void root() throws Exception {
    assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0, "needs root");
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx--x--x"));
  }

  /** Runs {@code sh -c script FILE} as {@code uid} (no groups); returns the exit status. */
  private static int as(int uid, String script, Path file) throws Exception {
    Process p = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--", "sh", "-c",
        script, "sh", file.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  private static final String READ = "head -c 1 \"$1\" >/dev/null";
  private static final String WRITE = "printf x >> \"$1\"";

  @ParameterizedTest
  @ValueSource(strings = {"rw-------", "rw-r-----", "rw-r--r--", "rw----r--", "r--r-----"})
  void grantsExactlyWhatIsAskedAndRestoresTheMode(String perms) throws Exception {
    Path f = Files.writeString(tmp.resolve("layer.vhd"), "contents", StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
    Object mode = Files.getAttribute(f, "unix:mode");
    boolean otherReads = perms.charAt(6) == 'r';
    assertEquals(otherReads ? 0 : 1, as(A, READ, f) == 0 ? 0 : 1, "before: as other");

    PosixAcl.grant(f, A, PosixAcl.READ);
    PosixAcl.grant(f, B, PosixAcl.READ | PosixAcl.WRITE);
    assertEquals(PosixAcl.READ, PosixAcl.entry(f, A));
    assertEquals(PosixAcl.READ | PosixAcl.WRITE, PosixAcl.entry(f, B));
    assertEquals(0, as(A, READ, f), "A reads");
    assertNotEquals(0, as(A, WRITE, f), "A cannot write");
    assertEquals(0, as(B, WRITE, f), "B writes");
    assertEquals(0, as(B, READ, f), "B reads");
    assertEquals(otherReads ? 0 : 1, as(A + 2, READ, f) == 0 ? 0 : 1, "a third uid gets nothing new");

    PosixAcl.revoke(f, B);
    assertEquals(-1, PosixAcl.entry(f, B));
    assertNotEquals(0, as(B, WRITE, f), "B's write access is gone");
    assertEquals(0, as(A, READ, f), "A keeps its entry");
    PosixAcl.revoke(f, A);
    PosixAcl.revoke(f, A); // twice: no error
    assertEquals(-1, PosixAcl.entry(f, A));
    assertEquals(mode, Files.getAttribute(f, "unix:mode"), "mode restored");
    assertEquals(otherReads ? 0 : 1, as(A, READ, f) == 0 ? 0 : 1, "after: as other again");
    assertEquals("contentsx", Files.readString(f), "only B's one write changed the contents");
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void randomGrantAndRevokeSequencesEndWhereTheyStarted(long seed) throws Exception {
    Random r = new Random(seed);
    Path f = Files.writeString(tmp.resolve("f" + seed), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
    Object mode = Files.getAttribute(f, "unix:mode");
    Map<Integer, Integer> expected = new HashMap<>();
    List<Integer> uids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      uids.add(A + 10 + i);
    }
    for (int step = 0; step < 60; step++) {
      int u = uids.get(r.nextInt(uids.size()));
      if (r.nextBoolean()) {
        int perm = r.nextBoolean() ? PosixAcl.READ : PosixAcl.READ | PosixAcl.WRITE;
        PosixAcl.grant(f, u, perm);
        expected.put(u, perm);
      } else {
        PosixAcl.revoke(f, u);
        expected.remove(u);
      }
      for (int v : uids) {
        assertEquals(expected.getOrDefault(v, -1), PosixAcl.entry(f, v), "uid " + v + " after step " + step);
      }
    }
    for (int v : uids) {
      PosixAcl.revoke(f, v);
    }
    assertEquals(mode, Files.getAttribute(f, "unix:mode"));
  }
}
