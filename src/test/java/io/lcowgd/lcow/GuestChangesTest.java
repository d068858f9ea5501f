package io.lcowgd.lcow;

import static io.lcowgd.testing.TarFixtures.gnuTarOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.graphdriver.Change;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import io.lcowgd.testing.UmlGuests;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code lcow.svm=uml}: Changes and DiffSize of sandboxes (populated through the host's real overlay mount) run in a
 * real UML guest and equal the host's {@link io.lcowgd.convert.LayerChanges} results: adds, modifies, unchanged parent
 * directories, changed directory modes and mtimes, whiteouts, opaque directories, hard links, symlinks, devices, odd
 * names, a {@code -init} sandbox as parent, a parent chain deeper than the VM's 15 disk slots, a FROM-scratch sandbox
 * and a never-mounted one (safe mode: the main sandbox only, as every call boots a guest); a guest killed mid-Changes
 * fails clearly and at once, and the next call works.
 */
class GuestChangesTest {
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
  void sandboxChangesAndDiffSizeInTheGuestEqualTheHostsAndSurviveAKilledGuest(String global) throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig(global));
    driver.init(tmp.resolve("home").toString(), null, null, null);
    String parent = buildImageChain(1, 4, "");

    // The -init layer: a sandbox used as a parent, with its own whiteout and opaque directory.
    driver.createReadWrite("c-init", parent, "", null);
    Path init = Path.of(driver.get("c-init", ""));
    Files.writeString(init.resolve("etc/hosts"), "127.0.0.1 localhost\n");
    Files.writeString(init.resolve(".dockerenv"), "");
    Files.delete(init.resolve("etc/motd"));
    HostTools.check("rm", "-rf", init.resolve("opt").toString());
    Files.createDirectories(init.resolve("opt/fresh"));
    driver.put("c-init");

    driver.createReadWrite("c", "c-init", "", null);
    Path m = Path.of(driver.get("c", ""));
    populate(m);

    long before = GuestChanges.completed();
    assertSame("c", ""); // while mounted (the host flushes first)
    driver.put("c");
    List<String> c = kinds(LayerDiffs.changes(driver.current(), "c", null));
    for (String want : List.of("C /etc", "D /etc/group", "C /etc/passwd", "A /etc/x", "C /tmp", "C /usr", "C /usr/bin",
        "C /var", "C /var/lib", "A /var/lib/new", "D /var/lib/x", "C /a", "C /a/b", "C /a/b/c", "A /a/b/c/deep",
        "A /hard1", "A /hard2", "D /opt/fresh", "C /opt", "D /.dockerenv", "A /dev1", "A /fifo", "C /keep-mtime",
        "A /caf\u00e9", "A /n\nl", "A /b\\s l", "C /layer3", "D /layer4", "A /layer2", "A /big.bin",
        "C /usr/bin/ls")) {
      assertTrue(c.contains(want), want + " not in " + c);
    }
    assertTrue(!c.contains("C /usr/bin/sh") && !c.contains("C /keep"), c.toString());
    assertEquals(before + 2, GuestChanges.completed(), "the sandbox's Changes and DiffSize ran in a guest");

    if (global.equals("true")) { // the other cases once, in the shared guest (safe mode boots a guest per call)
      assertSame("c", "c-init"); // the own parent named
      assertSame("c-init", "");
      // Against an older ancestor: on the host (not counted), and still right.
      long n = GuestChanges.completed();
      assertEquals(LayerDiffs.changes(driver.current(), "c", "L2"), driver.changes("c", "L2"));
      assertEquals(n, GuestChanges.completed());

      // FROM-scratch sandbox (no parent) and a never-mounted one (the whole filesystem: an empty lost+found only).
      driver.createReadWrite("s", "", "", null);
      Path s = Path.of(driver.get("s", ""));
      Files.createDirectories(s.resolve("bin"));
      Files.writeString(s.resolve("bin/app"), "app");
      Files.createSymbolicLink(s.resolve("link"), Path.of("bin/app"));
      driver.put("s");
      assertSame("s", "");
      assertEquals(List.of("A /bin", "A /bin/app", "A /link"), kinds(driver.changes("s", "")));
      driver.createReadWrite("f", parent, "", null);
      assertSame("f", "");
      assertEquals(List.of(), driver.changes("f", ""));

      // A parent chain of 16 image layers: with the sandbox more disks than the VM's 15 slots.
      String deep = buildImageChain(5, 16, parent);
      driver.createReadWrite("deep", deep, "", null);
      Path dm = Path.of(driver.get("deep", ""));
      Files.delete(dm.resolve("layer5"));
      Files.writeString(dm.resolve("layer15"), "rewritten");
      Files.writeString(dm.resolve("deepfile"), "new");
      driver.put("deep");
      assertSame("deep", "");
      assertEquals(List.of("A /deepfile", "C /layer15", "D /layer5"), kinds(driver.changes("deep", "")));
    }

    // A guest killed while Changes attaches or lists the parent chain fails clearly; the next call works.
    AtomicReference<String> killed = new AtomicReference<>();
    Thread killer = killWhenSecondDiskAttached(killed);
    long t0 = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> driver.changes("c", ""));
    long failMs = (System.nanoTime() - t0) / 1_000_000;
    killer.join();
    assertTrue(killed.get() != null, "the guest was killed");
    assertTrue(e.getMessage().contains("Changes c in service VM")
        && e.getMessage().matches("(?s).*(exited with status|died|not running).*"), e.toString());
    assertTrue(failMs < 60_000, "failed after " + failMs + " ms, not at once");
    assertSame("c", "");
  }

  @org.junit.jupiter.api.Test
  void concurrentCallsOnTheGlobalGuestWithDistinctChainsAllSucceed() throws Exception {
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig("true"));
    driver.init(tmp.resolve("home").toString(), null, null, null);
    List<String> ids = List.of("p", "q", "r");
    for (String id : ids) { // three chains of 7 layers: 3 x (7 + 1) disks at once would not fit 15 slots
      String prev = "";
      for (int i = 1; i <= 7; i++) {
        Path d = Files.createDirectories(tmp.resolve("src-" + id + i));
        Files.writeString(d.resolve(id + i), id + i);
        driver.create(id + "L" + i, prev, "", null);
        driver.applyDiff(id + "L" + i, prev, new ByteArrayInputStream(gnuTarOf(d, id + i)));
        prev = id + "L" + i;
      }
      driver.createReadWrite(id, prev, "", null);
      Path m = Path.of(driver.get(id, ""));
      Files.delete(m.resolve(id + 3));
      Files.writeString(m.resolve("new-" + id), id);
      driver.put(id);
    }
    long before = GuestChanges.completed();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(ids.size());
    try {
      List<java.util.concurrent.Future<List<Change>>> results = new ArrayList<>();
      for (String id : ids) {
        results.add(pool.submit(() -> driver.changes(id, "")));
      }
      for (int i = 0; i < ids.size(); i++) {
        String id = ids.get(i);
        assertEquals(List.of("A /new-" + id, "D /" + id + 3), kinds(results.get(i).get()), id);
        assertEquals(LayerDiffs.changes(driver.current(), id, null), results.get(i).get(), id);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(before + ids.size(), GuestChanges.completed());
  }

  /** Builds image layers L{from}..L{to} on {@code parent} ("" for none; L1 is the base tree); returns the top id. */
  private String buildImageChain(int from, int to, String parent) throws IOException {
    String prev = parent;
    for (int i = from; i <= to; i++) {
      Path d = Files.createDirectories(tmp.resolve("src" + i));
      List<String> names = new ArrayList<>(List.of("layer" + i));
      Files.writeString(d.resolve("layer" + i), "layer " + i);
      if (i == 1) {
        base(d);
        names.addAll(List.of("etc", "usr", "var", "tmp", "keep", "keep-mtime", "a", "opt"));
      }
      if (i == 4) {
        Files.writeString(d.resolve(".wh.layer2"), ""); // a whiteout in an image layer
        names.add(".wh.layer2");
      }
      driver.create("L" + i, prev, "", null);
      driver.applyDiff("L" + i, prev, new ByteArrayInputStream(gnuTarOf(d, names.toArray(String[]::new))));
      prev = "L" + i;
    }
    return prev;
  }

  private static void base(Path src) throws IOException {
    Files.createDirectories(src.resolve("etc"));
    Files.writeString(src.resolve("etc/passwd"), "root:x:0:0\n");
    Files.writeString(src.resolve("etc/group"), "root:x:0:\n");
    Files.writeString(src.resolve("etc/motd"), "hi\n");
    Files.createDirectories(src.resolve("usr/bin"));
    Files.writeString(src.resolve("usr/bin/busybox"), "ELF");
    Files.writeString(src.resolve("usr/bin/ls"), "ls");
    Files.createSymbolicLink(src.resolve("usr/bin/sh"), Path.of("busybox"));
    Files.createDirectories(src.resolve("var/lib/x"));
    Files.writeString(src.resolve("var/lib/x/y"), "y");
    Files.createDirectories(src.resolve("tmp"));
    Files.createDirectories(src.resolve("keep"));
    Files.writeString(src.resolve("keep/f"), "f");
    Files.createDirectories(src.resolve("keep-mtime"));
    Files.createDirectories(src.resolve("a/b/c"));
    Files.createDirectories(src.resolve("opt/old"));
    for (Path p : List.of(src.resolve("a"), src.resolve("a/b"), src.resolve("a/b/c"), src.resolve("keep-mtime"))) {
      Files.setLastModifiedTime(p, FileTime.fromMillis(1_600_000_000_123L));
    }
  }

  /** Every kind of change, through the host's overlay mount of the sandbox. */
  private static void populate(Path m) throws IOException {
    Files.writeString(m.resolve("etc/x"), "new");
    Files.writeString(m.resolve("etc/passwd"), "root:x:0:0\nme:x:1000:1000\n");
    Files.delete(m.resolve("etc/group"));
    Files.delete(m.resolve("usr/bin/sh"));
    Files.createSymbolicLink(m.resolve("usr/bin/sh"), Path.of("busybox")); // same target: not reported
    Files.writeString(m.resolve("usr/bin/ls"), "ls v2");
    HostTools.check("rm", "-rf", m.resolve("var/lib").toString());
    Files.createDirectory(m.resolve("var/lib")); // opaque
    Files.writeString(m.resolve("var/lib/new"), "n");
    HostTools.check("chmod", "0700", m.resolve("tmp").toString());
    Files.setLastModifiedTime(m.resolve("keep-mtime"), FileTime.fromMillis(1_700_000_000_456L)); // mtime only
    Files.createDirectories(m.resolve("a/b/c"));
    Files.writeString(m.resolve("a/b/c/deep"), "deep"); // a and a/b only parents of a change
    Files.writeString(m.resolve("hard1"), "0123456789");
    Files.createLink(m.resolve("hard2"), m.resolve("hard1"));
    HostTools.check("rm", "-rf", m.resolve("opt").toString()); // the -init layer's opt/fresh goes
    Files.createDirectories(m.resolve("opt"));
    Files.delete(m.resolve(".dockerenv"));
    HostTools.check("mknod", m.resolve("dev1").toString(), "c", "1", "3");
    HostTools.check("mkfifo", m.resolve("fifo").toString());
    Files.write(m.resolve("caf\u00e9"), new byte[] {1});
    Files.writeString(m.resolve("n\nl"), "newline");
    Files.writeString(m.resolve("b\\s l"), "backslash");
    Files.writeString(m.resolve("layer3"), "rewritten");
    Files.delete(m.resolve("layer4"));
    Files.writeString(m.resolve("layer2"), "back"); // whited out by L4: an add
    Files.createDirectories(m.resolve("d/e"));
    Files.writeString(m.resolve("d/e/" + "n".repeat(200)), "long");
    HostTools.check("chown", "1234:567", m.resolve("d/e").toString());
    byte[] big = new byte[3 << 20];
    new Random(5).nextBytes(big);
    Files.write(m.resolve("big.bin"), big);
  }

  /** Changes and DiffSize of {@code id} against {@code parent} through the driver (guest) equal the host's. */
  private void assertSame(String id, String parent) throws IOException {
    List<Change> host = LayerDiffs.changes(driver.current(), id, null);
    long hostSize = LayerDiffs.diffSize(driver.current(), id, null);
    long before = GuestChanges.completed();
    assertEquals(host, driver.changes(id, parent), id + " Changes");
    assertEquals(hostSize, driver.diffSize(id, parent), id + " DiffSize");
    assertEquals(before + 2, GuestChanges.completed(), id + ": both ran in a guest");
  }

  private static List<String> kinds(List<Change> changes) {
    List<String> out = new ArrayList<>();
    for (Change ch : changes) {
      out.add("CAD".charAt(ch.kind().code()) + " " + ch.path());
    }
    return out;
  }

  /** Kills this JVM's guest (its process group) once a second disk is plugged into it (a parent layer's probe). */
  private static Thread killWhenSecondDiskAttached(AtomicReference<String> killed) {
    Thread t = new Thread(() -> {
      long deadline = System.nanoTime() + 60_000_000_000L;
      try {
        while (System.nanoTime() < deadline) {
          try (Stream<Path> runs = Files.list(UmlBackend.DEFAULT_RUN_BASE)) {
            for (Path run : runs.filter(r -> r.getFileName().toString().startsWith(UmlBackend.umidPrefix())).toList()) {
              String[] disks = run.resolve("disks").toFile().list();
              if (disks != null && disks.length >= 2) {
                UmlGuests.killGroups(UmlBackend.umidPrefix());
                killed.set(run.getFileName().toString());
                return;
              }
            }
          } catch (IOException e) {
            // the run base may not exist yet
          }
          Thread.sleep(2);
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    }, "killer");
    t.start();
    return t;
  }

}
