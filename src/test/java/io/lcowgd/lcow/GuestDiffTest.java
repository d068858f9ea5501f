package io.lcowgd.lcow;

import static io.lcowgd.testing.TarFixtures.gnuTarOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.TarBytes;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuests;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code lcow.svm=uml}: a commit-like flow (CreateReadWrite, Get, every kind of change in the host mount
 * ({@link SandboxCases}), Put, Diff) whose Diff runs in a real UML guest, compared byte for byte with the host
 * backend's export of the same sandbox; a guest killed during a Diff fails it clearly and the next Diff boots a fresh
 * guest.
 */
class GuestDiffTest {
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.ROOT);
  @TempDir Path tmp;
  private LcowDriver driver;

  @AfterEach
  void close() throws Exception {
    if (driver != null) {
      driver.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"false", "true"})
  void sandboxDiffInTheGuestMatchesTheHostExportAndSurvivesAKilledGuest(String global) throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig(global));
    Path home = tmp.resolve("home");
    driver.init(home.toString(), null, null, null);

    Path src = Files.createDirectories(tmp.resolve("src"));
    SandboxCases.run(SandboxCases.BASE, src);
    driver.create("L1", "", "", null);
    driver.applyDiff("L1", "", new ByteArrayInputStream(SandboxCases.baseTar(src)));
    driver.createReadWrite("c", "L1", "", null);
    Path m = Path.of(driver.get("c", ""));
    SandboxCases.run(SandboxCases.CHANGES, m);

    long before = GuestDiff.completed();
    // While still mounted (the host flushes it first), and again after Put.
    byte[] mounted = guestDiff();
    byte[] hostMounted = hostDiff();
    driver.put("c");
    long t0 = System.nanoTime();
    byte[] guest = guestDiff();
    long guestMillis = (System.nanoTime() - t0) / 1_000_000;
    byte[] host = hostDiff();
    System.out.printf("guest Diff (global=%s): %d bytes in %d ms, sha256 %s%n", global, guest.length, guestMillis,
        TarBytes.sha256(guest));
    TarBytes.assertSameBytes(host, guest, "guest Diff after Put vs host Diff");
    TarBytes.assertSameBytes(hostMounted, mounted, "guest Diff while mounted vs host Diff");
    assertEquals(before + 2, GuestDiff.completed(), "both Diffs ran in a guest");
    Map<String, String> names = entries(guest);
    for (String n : List.of(".wh.gone.txt", "keep/.wh.old.txt", ".wh.gone-dir", "wipe/.wh..wh..opq",
        "wip\u00e9 2/.wh..wh..opq", "fifo", "fifo2", "link2", "hl/d/second", "big.bin", "sparse.bin")) {
      assertTrue(names.containsKey(n), n + " in " + names.keySet());
    }
    assertTrue(names.get("fifo2").startsWith("hard "), "a hard-linked fifo is a link, as the host writes it");
    assertTrue(names.get("link2").startsWith("sym "), "a hard-linked symlink is a symlink, as the host writes it");
    assertEquals(List.of(), driver.status().stream().filter(s -> s.key().equals("Guest VMs"))
        .filter(s -> !s.value().startsWith("uml, " + (global.equals("true") ? 1 : 0) + " running, "))
        .toList());

    // A guest killed during the export: the Diff fails naming the dead VM; the next one boots a fresh guest.
    IOException e;
    try (TarStream ts = driver.diff("c", "L1")) {
      e = assertThrows(IOException.class, () -> ts.writeTo(new KillAfterFirstBytes()));
    }
    assertTrue(e.getMessage().contains("service VM") && e.getMessage().contains("died"), e.toString());
    TarBytes.assertSameBytes(host, guestDiff(), "guest Diff on a fresh guest after the kill");
  }

  /**
   * An entry the host refuses early in a long guest stream (a 2 GiB sparse file after it, about 20 s over the data
   * line): the Diff fails at once naming the layer and the entry, the guest command is abandoned instead of drained
   * (its VM, out of step, is replaced), and the next Diff of the same sandbox runs in a fresh guest.
   */
  @ParameterizedTest
  @ValueSource(strings = {"false", "true"})
  void aRefusedEntryFailsTheDiffAtOnceAndTheNextDiffGetsAFreshGuest(String global) throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig(global));
    driver.init(tmp.resolve("home").toString(), null, null, null);
    driver.create("L1", "", "", null);
    driver.createReadWrite("c", "L1", "", null);
    Path m = Path.of(driver.get("c", ""));
    Files.writeString(m.resolve("a.txt"), "a");
    HostTools.check("setfattr", "-n", "user.k=v", "-v", "1", m.resolve("a.txt").toString());
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(m.resolve("z.bin").toFile(), "rw")) {
      f.setLength(2L << 30);
    }
    driver.put("c");
    long before = GuestDiff.completed();
    long t0 = System.nanoTime();
    IOException e;
    try (TarStream ts = driver.diff("c", "L1")) {
      e = assertThrows(IOException.class, () -> ts.writeTo(OutputStream.nullOutputStream()));
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("refused entry (global=%s): Diff failed after %d ms: %s%n", global, millis, e.getMessage());
    assertTrue(e.getMessage().startsWith("Diff c (service VM ") && e.getMessage().contains(
        "tar entry a.txt: xattr name user.k=v contains '='"), e.toString());
    assertTrue(millis < 8_000, "the Diff failed after " + millis + " ms, not at once");
    assertEquals(before, GuestDiff.completed());
    java.util.Set<String> abandoned = umids();
    assertEquals(global.equals("true") ? 1 : 0, abandoned.size(),
        "safe mode: the abandoned guest is gone with its lease; global mode: it waits for the next lease " + abandoned);

    m = Path.of(driver.get("c", ""));
    HostTools.check("setfattr", "-x", "user.k=v", m.resolve("a.txt").toString());
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(m.resolve("z.bin").toFile(), "rw")) {
      f.setLength(1 << 20);
    }
    driver.put("c");
    TarBytes.assertSameBytes(hostDiff(), guestDiff(), "guest Diff after the abandoned one");
    assertEquals(before + 1, GuestDiff.completed());
    java.util.Set<String> now = umids();
    assertEquals(global.equals("true") ? 1 : 0, now.size(), "safe mode: no guest left; global mode: one " + now);
    assertTrue(java.util.Collections.disjoint(abandoned, now), "the abandoned guest was replaced: " + now);
  }

  @org.junit.jupiter.api.Test
  void concurrentSandboxDiffsShareTheGlobalGuest() throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig("true"));
    driver.init(tmp.resolve("home").toString(), null, null, null);
    Path src = tmp.resolve("src");
    Files.createDirectories(src.resolve("d"));
    Files.writeString(src.resolve("d/f"), "f");
    driver.create("L1", "", "", null);
    driver.applyDiff("L1", "", new ByteArrayInputStream(gnuTarOf(src, "d")));
    List<String> ids = List.of("c1", "c2", "c3");
    Random r = new Random(11);
    for (String id : ids) {
      driver.createReadWrite(id, "L1", "", null);
      Path m = Path.of(driver.get(id, ""));
      byte[] big = new byte[(2 + ids.indexOf(id)) << 20];
      r.nextBytes(big);
      Files.write(m.resolve(id + ".bin"), big);
      Files.delete(m.resolve("d/f"));
      driver.put(id);
    }
    long before = GuestDiff.completed();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(ids.size());
    try {
      List<java.util.concurrent.Future<byte[]>> results = new java.util.ArrayList<>();
      for (String id : ids) {
        results.add(pool.submit(() -> diffOf(id, "L1")));
      }
      for (int i = 0; i < ids.size(); i++) {
        byte[] bytes = results.get(i).get();
        TarBytes.assertSameBytes(hostDiffOf(ids.get(i)), bytes, ids.get(i));
        Map<String, String> guest = entries(bytes);
        assertTrue(guest.containsKey(ids.get(i) + ".bin") && guest.containsKey("d/.wh.f"), guest.keySet().toString());
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(before + ids.size(), GuestDiff.completed());
  }

  /**
   * A sandbox whose image has no {@code upper/} (as a FROM-scratch sandbox image made elsewhere may be): the guest
   * exports the whole filesystem, leaving out the empty root {@code lost+found} as the host does, and a whiteout and
   * opaque directory made by hand are translated the same way. {@code GuestExportCommandTest} checks the same export
   * without a guest; this UML variant stays because the point here is the guest side: {@link GuestDiff#diff}'s
   * {@code upper/}-or-whole decision made in the guest, and the guest kernel's view of the image.
   */
  @org.junit.jupiter.api.Test
  void sandboxWithoutUpperExportsTheWholeFilesystemLikeTheHost() throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig("false"));
    driver.init(tmp.resolve("home").toString(), null, null, null);
    driver.createReadWrite("s", "", "", null);
    io.lcowgd.layerstore.Layer l = driver.current().store().layer("s");
    io.lcowgd.disk.PayloadRange r = ImagePayload.of(l);
    String loop = HostTools.check("losetup", "-f", "--show", "-o", Long.toString(r.offset()), "--sizelimit",
        Long.toString(r.length()), l.image().toString()).strip();
    Path mp = Files.createDirectories(tmp.resolve("mp"));
    try {
      HostTools.check("mount", "-t", "ext4", loop, mp.toString());
      try {
        HostTools.check("rm", "-rf", mp.resolve("upper").toString(), mp.resolve("work").toString());
        SandboxCases.run(SandboxCases.BASE, mp);
        SandboxCases.run(SandboxCases.CHANGES, mp);
        SandboxCases.run(SandboxCases.WHOLE_FS, mp);
      } finally {
        HostTools.check("umount", mp.toString());
      }
    } finally {
      HostTools.check("losetup", "-d", loop);
    }
    long before = GuestDiff.completed();
    byte[] guest = diffOf("s", "");
    assertEquals(before + 1, GuestDiff.completed(), "the Diff ran in a guest");
    ByteArrayOutputStream host = new ByteArrayOutputStream();
    try (TarStream ts = LayerDiffs.diff(driver.current(), "s", null)) {
      ts.writeTo(host);
    }
    TarBytes.assertSameBytes(host.toByteArray(), guest, "sandbox without upper/");
    Map<String, String> names = entries(guest);
    assertTrue(names.containsKey(".wh.wh") && names.containsKey("op/.wh..wh..opq") && names.containsKey("keep/new.txt")
        && !names.containsKey("lost+found/"), names.keySet().toString());
  }

  /** The umids of this JVM's running guests (a guest is several linux.uml processes). */
  private static java.util.Set<String> umids() throws Exception {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (String line : UmlGuests.running(UmlBackend.umidPrefix())) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("umid=(\\S+)").matcher(line);
      assertTrue(m.find(), line);
      out.add(m.group(1));
    }
    return out;
  }

  private byte[] diffOf(String id, String parent) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarStream ts = driver.diff(id, parent)) {
      ts.writeTo(out);
    }
    return out.toByteArray();
  }

  private byte[] hostDiffOf(String id) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarStream ts = LayerDiffs.diff(driver.current(), id, "L1")) {
      ts.writeTo(out);
    }
    return out.toByteArray();
  }

  private byte[] guestDiff() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarStream ts = driver.diff("c", "L1")) {
      ts.writeTo(out);
    }
    return out.toByteArray();
  }

  private byte[] hostDiff() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarStream ts = LayerDiffs.diff(driver.current(), "c", "L1")) {
      ts.writeTo(out);
    }
    return out.toByteArray();
  }

  /** Name (raw bytes) -> type, mode, owner, size, link, device and sha-256 of the contents. */
  private static Map<String, String> entries(byte[] tar) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar), "ISO-8859-1")) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        String type = e.isDirectory() ? "dir" : e.isSymbolicLink() ? "sym" : e.isLink() ? "hard" : e.isFIFO() ? "fifo"
            : e.isCharacterDevice() ? "chr" : e.isBlockDevice() ? "blk" : "file";
        String prev = out.put(e.getName(), type + " " + Integer.toOctalString(e.getMode()) + " " + e.getLongUserId()
            + ":" + e.getLongGroupId() + " " + e.getSize() + " " + e.getLinkName() + " " + e.getDevMajor() + ","
            + e.getDevMinor() + " " + sha);
        assertEquals(null, prev, "duplicate entry " + e.getName());
      }
    }
    return out;
  }


  /** Kills this JVM's UML guests (their process groups) once the first bytes of the export arrive. */
  private static final class KillAfterFirstBytes extends OutputStream {
    private long seen;
    private boolean killed;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      seen += len;
      if (!killed && seen > 0) {
        killed = true;
        UmlGuests.killGroups(UmlBackend.umidPrefix());
      }
    }
  }
}
