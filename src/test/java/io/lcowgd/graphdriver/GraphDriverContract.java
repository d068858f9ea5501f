package io.lcowgd.graphdriver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.testing.HostTools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link GraphDriver} must show, ported from moby's {@code daemon/graphdriver/graphtest}
 * (CreateEmpty, CreateBase, CreateSnap, DeepLayerRead, DiffApply, Changes) plus Get/Put nesting, Remove of a
 * mounted layer, crash debris and bad ids. Subclasses provide a fresh driver per test and check for leaks after it.
 * Needs root: the tests chown files and check setuid/sticky bits through the directory Get returns.
 */
public abstract class GraphDriverContract {

  /** The driver under test, fresh for each test. */
  protected abstract GraphDriver driver();

  /** Leaves debris as if the process had been killed while creating layer {@code id}. */
  protected abstract void leaveCrashDebris(String id) throws IOException;

  /** Stops the driver (without Cleanup, as a crash would) and starts a new instance on the same state. */
  protected abstract void restart() throws IOException;

  // ---- graphtest helpers ----

  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

  protected static int mode(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW);
  }

  protected static int uid(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:uid", NOFOLLOW);
  }

  protected static int gid(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:gid", NOFOLLOW);
  }

  /** Directory entries, sorted, without {@code lost+found} (as graphtest ignores it). */
  protected static List<String> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("lost+found")).sorted().toList();
    }
  }

  protected static byte[] randomContent(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_ISUID = 04000;
  private static final int S_ISVTX = 01000;

  private Path get(String id) throws IOException {
    String dir = driver().get(id, "");
    Path p = Path.of(dir);
    assertTrue(p.isAbsolute(), "Get returns an absolute path: " + dir);
    assertTrue(Files.isDirectory(p), "Get returns a directory: " + dir);
    return p;
  }

  private void createBase(String name) throws IOException {
    driver().createReadWrite(name, "", "", null);
    Path dir = get(name);
    try {
      Path sub = dir.resolve("a subdir");
      Files.createDirectory(sub);
      HostTools.check("chmod", "1705", sub.toString());
      HostTools.check("chown", "-h", "1:2", sub.toString());
      Path file = dir.resolve("a file");
      Files.writeString(file, "Some data");
      HostTools.check("chmod", "4222", file.toString());
    } finally {
      driver().put(name);
    }
  }

  private void verifyBase(String name) throws IOException {
    Path dir = get(name);
    try {
      Path sub = dir.resolve("a subdir");
      assertEquals(S_IFDIR | S_ISVTX | 0705, mode(sub), "mode of 'a subdir'");
      assertEquals(1, uid(sub));
      assertEquals(2, gid(sub));
      Path file = dir.resolve("a file");
      assertEquals(S_IFREG | S_ISUID | 0222, mode(file), "mode of 'a file'");
      assertEquals(0, uid(file));
      assertEquals("Some data", Files.readString(file));
      assertEquals(List.of("a file", "a subdir"), list(dir));
    } finally {
      driver().put(name);
    }
  }

  // ---- graphtest ----

  @Test
  void createEmpty() throws IOException {
    driver().create("empty", "", "", null);
    assertTrue(driver().exists("empty"));
    Path dir = get("empty");
    try {
      assertEquals(S_IFDIR | 0755, mode(dir), "root of an empty layer");
      assertEquals(0, uid(dir));
      assertEquals(0, gid(dir));
      assertEquals(List.of(), list(dir));
    } finally {
      driver().put("empty");
    }
    driver().remove("empty");
    assertFalse(driver().exists("empty"));
  }

  @Test
  void createBase() throws IOException {
    createBase("Base");
    verifyBase("Base");
    driver().remove("Base");
  }

  @Test
  void createSnap() throws IOException {
    createBase("Base");
    driver().create("Snap", "Base", "", null);
    verifyBase("Snap");
    driver().remove("Snap");
    driver().remove("Base");
  }

  @Test
  void deepLayerRead() throws IOException {
    int n = deepLayerCount();
    driver().create("base", "", "", null);
    Path b = get("base");
    Files.writeString(b.resolve("testfile.txt"), "test content");
    driver().put("base");
    String parent = "base";
    for (int i = 1; i <= n; i++) {
      String id = "layer" + i;
      driver().create(id, parent, "", null);
      Path dir = get(id);
      Files.writeString(dir.resolve("top-id"), id);
      Path ld = Files.createDirectory(dir.resolve("layer-" + i));
      Files.writeString(ld.resolve("layer-id"), id);
      Files.writeString(ld.resolve("parent-id"), parent);
      driver().put(id);
      parent = id;
    }
    verifyDeepTop(parent, n);
  }

  /** Mounts the top of {@link #deepLayerRead}'s chain and checks that every layer's files show through. */
  protected void verifyDeepTop(String topId, int n) throws IOException {
    Path top = get(topId);
    try {
      assertEquals(topId, Files.readString(top.resolve("top-id")));
      for (int i = n; i >= 1; i--) {
        assertEquals("layer" + i, Files.readString(top.resolve("layer-" + i + "/layer-id")));
        assertEquals(i == 1 ? "base" : "layer" + (i - 1), Files.readString(top.resolve("layer-" + i + "/parent-id")));
      }
      assertEquals("test content", Files.readString(top.resolve("testfile.txt")));
    } finally {
      driver().put(topId);
    }
  }

  /** How many layers {@link #deepLayerRead} stacks (graphtest's overlay2 run uses 128; 125+ is required). */
  protected int deepLayerCount() {
    return 130;
  }

  private void addManyFiles(String id, int count, long seed) throws IOException {
    Path root = get(id);
    try {
      for (int i = 0; i < count; i += 100) {
        Path dir = Files.createDirectories(root.resolve("directory-" + i));
        for (int j = 0; i + j < count && j < 100; j++) {
          Files.write(dir.resolve("file-" + (i + j)), randomContent(64, seed + i + j));
        }
      }
    } finally {
      driver().put(id);
    }
  }

  private void checkManyFiles(String id, int count, long seed) throws IOException {
    Path root = get(id);
    try {
      for (int i = 0; i < count; i += 100) {
        for (int j = 0; i + j < count && j < 100; j++) {
          assertArrayEquals(randomContent(64, seed + i + j),
              Files.readAllBytes(root.resolve("directory-" + i + "/file-" + (i + j))), "file-" + (i + j));
        }
      }
    } finally {
      driver().put(id);
    }
  }

  @Test
  void diffApply() throws IOException {
    int fileCount = 150;
    driver().create("base", "", "", null);
    addManyFiles("base", fileCount, 3);
    Path b = get("base");
    Files.writeString(b.resolve("file-remove.txt"), "remove me");
    Files.createDirectories(b.resolve("var/lib"));
    driver().put("base");

    driver().create("upper", "base", "", null);
    addManyFiles("upper", fileCount, 6);
    Path u = get("upper");
    Files.delete(u.resolve("file-remove.txt"));
    Files.delete(u.resolve("var/lib"));
    driver().put("upper");

    long diffSize = driver().diffSize("upper", "");
    assertEquals(64L * fileCount, diffSize, "DiffSize counts the bytes of changed files");
    driver().create("diff", "base", "", null);
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    try (TarStream ts = driver().diff("upper", "base")) {
      ts.writeTo(tar);
    }
    long applied = driver().applyDiff("diff", "base", new ByteArrayInputStream(tar.toByteArray()));
    assertEquals(diffSize, applied, "ApplyDiff(Diff(upper, base)) == DiffSize(upper)");
    checkManyFiles("diff", fileCount, 6);
    Path d = get("diff");
    try {
      assertFalse(Files.exists(d.resolve("file-remove.txt"), NOFOLLOW), "whiteout hides the removed file");
      assertFalse(Files.exists(d.resolve("var/lib"), NOFOLLOW), "whiteout hides the removed directory");
      assertTrue(Files.isDirectory(d.resolve("var")));
    } finally {
      driver().put("diff");
    }
  }

  @Test
  void changes() throws IOException {
    int count = 20;
    driver().create("base", "", "", null);
    addManyFiles("base", count, 3);
    driver().create("upper", "base", "", null);
    List<Change> expected = new ArrayList<>();
    Path root = get("upper");
    try {
      expected.add(new Change("/directory-0", Change.Kind.MODIFY));
      for (int j = 0; j < count; j++) {
        Path f = root.resolve("directory-0/file-" + j);
        switch (j % 3) {
          case 0 -> {
            Files.write(f, randomContent(64, 6 + j));
            expected.add(new Change("/directory-0/file-" + j, Change.Kind.MODIFY));
          }
          case 1 -> {
            Files.write(root.resolve("directory-0/file-6-" + j), randomContent(64, 6 + j));
            expected.add(new Change("/directory-0/file-6-" + j, Change.Kind.ADD));
          }
          default -> {
            Files.delete(f);
            expected.add(new Change("/directory-0/file-" + j, Change.Kind.DELETE));
          }
        }
      }
    } finally {
      driver().put("upper");
    }
    Comparator<Change> order = Comparator.comparing(Change::path).thenComparing(c -> c.kind().code());
    List<Change> actual = new ArrayList<>(driver().changes("upper", "base"));
    actual.sort(order);
    expected.sort(order);
    assertEquals(expected, actual);
    List<Change> viaOwnParent = new ArrayList<>(driver().changes("upper", ""));
    viaOwnParent.sort(order);
    assertEquals(expected, viaOwnParent, "an empty Parent means the layer's own parent");
  }

  // ---- beyond graphtest ----

  @Test
  void getAndPutNestAndRunConcurrently() throws Exception {
    createBase("Base");
    String first = driver().get("Base", "");
    assertEquals(first, driver().get("Base", ""));
    driver().put("Base");
    assertTrue(Files.exists(Path.of(first, "a file")), "still mounted after one of two Puts");
    driver().put("Base");
    assertThrows(GraphDriverException.class, () -> driver().put("Base"), "Put without Get");
    ExecutorService ex = Executors.newFixedThreadPool(6);
    try {
      List<Future<String>> fs = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        fs.add(ex.submit(() -> {
          String d = driver().get("Base", "");
          Files.readString(Path.of(d, "a file"));
          return d;
        }));
      }
      for (Future<String> f : fs) {
        assertEquals(first, f.get());
      }
      List<Future<?>> puts = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        puts.add(ex.submit(() -> {
          driver().put("Base");
          return null;
        }));
      }
      for (Future<?> f : puts) {
        f.get();
      }
    } finally {
      ex.shutdown();
    }
    driver().remove("Base");
  }

  @Test
  void removeOfAMountedLayerUnmountsIt() throws IOException {
    createBase("Base");
    Path dir = get("Base");
    driver().remove("Base");
    assertFalse(driver().exists("Base"));
    assertFalse(Files.exists(dir.resolve("a file")), "no longer mounted");
    assertThrows(GraphDriverException.class, () -> driver().put("Base"));
  }

  @Test
  void containerLayersSeeTheirInitLayersChanges() throws IOException {
    createBase("img");
    driver().createReadWrite("ctr-init", "img", "", null);
    Path init = get("ctr-init");
    Files.createDirectories(init.resolve("etc"));
    Files.writeString(init.resolve("etc/hostname"), "");
    Files.delete(init.resolve("a file")); // a whiteout in the init layer's upper/
    driver().put("ctr-init");
    driver().createReadWrite("ctr", "ctr-init", "", null);
    Path c = get("ctr");
    try {
      assertTrue(Files.isRegularFile(c.resolve("etc/hostname")));
      assertFalse(Files.exists(c.resolve("a file"), NOFOLLOW), "the init layer's whiteout applies");
      assertTrue(Files.isDirectory(c.resolve("a subdir")));
      assertFalse(Files.exists(c.resolve("upper")), "a sandbox parent contributes upper/, not its root");
      assertFalse(Files.exists(c.resolve("lost+found")));
    } finally {
      driver().put("ctr");
    }
  }

  @Test
  void createFailsForDuplicatesAndMissingParents() throws IOException {
    driver().create("a", "", "", null);
    assertThrows(GraphDriverException.class, () -> driver().create("a", "", "", null));
    assertThrows(GraphDriverException.class, () -> driver().create("b", "missing", "", null));
    assertFalse(driver().exists("b"));
    assertThrows(GraphDriverException.class, () -> driver().remove("missing"));
    assertThrows(GraphDriverException.class, () -> driver().get("missing", ""));
  }

  @Test
  void badIdsAreRejected() throws IOException {
    for (String id : List.of("", "..", ".", "a/b", "../escape", "x\u0000y", "cache", "id-removing", "a".repeat(300))) {
      GraphDriverException e = assertThrows(GraphDriverException.class, () -> driver().create(id, "", "", null),
          "id '" + id + "'");
      assertEquals(GraphDriverException.Category.INVALID_ARGUMENT, e.category());
      assertFalse(driver().exists(id) && !id.isEmpty() && !id.equals("."), id);
    }
    assertThrows(GraphDriverException.class, () -> driver().get("../x", ""));
    assertThrows(GraphDriverException.class, () -> driver().remove("a/b"));
  }

  @Test
  void crashDebrisIsNeverALayerAndIsCleanedAtStart() throws IOException {
    driver().create("kept", "", "", null);
    leaveCrashDebris("half");
    assertFalse(driver().exists("half"));
    restart();
    assertFalse(driver().exists("half"));
    assertTrue(driver().exists("kept"));
    driver().create("half", "", "", null); // the name is free again
    assertTrue(driver().exists("half"));
  }

  @Test
  void statusAndMetadataDescribeTheDriver() throws IOException {
    createBase("Base");
    List<StatusLine> st = driver().status();
    assertFalse(st.isEmpty());
    assertNotEquals(0, driver().getMetadata("Base").size());
    assertThrows(GraphDriverException.class, () -> driver().getMetadata("missing"));
    assertFalse(driver().capabilities().reproducesExactDiffs());
  }
}
