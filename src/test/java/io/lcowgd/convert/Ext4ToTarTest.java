package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.ext4.KernelImages;
import io.lcowgd.ext4.TreeSnapshot;
import io.lcowgd.testing.HostTools;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exports kernel-written images and checks every entry of the tar against the kernel's view of the image. */
class Ext4ToTarTest {
  private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @TempDir Path tmp;

  @BeforeEach
  void root() {
    assumeTrue(HostTools.isRoot(), "needs root for loop mounts");
  }

  @Test
  void layerExportMatchesTheKernelViewEntryByEntry() throws IOException {
    Path img = KernelImages.build(tmp.resolve("k.img"), 160, List.of("-b", "4096"), r -> KernelImages.rich(r, 7));
    Map<String, String> mount = KernelImages.withMount(img, true, TreeSnapshot::ofMount);
    List<String> order = KernelImages.withMount(img, true, Ext4ToTarTest::dfsOrder);
    Path tar = tmp.resolve("out.tar");
    long reported;
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img));
        java.io.OutputStream o = Files.newOutputStream(tar)) {
      reported = Ext4ToTar.export(r, ExportMode.LAYER, o);
    }
    List<RawTar.Entry> entries;
    try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(tar))) {
      entries = RawTar.read(in);
    }
    assertEquals(entries.stream().mapToLong(RawTar.Entry::size).sum(), reported);
    assertEquals(entries.size(), HostTools.check("tar", "-tf", tar.toString()).split("\n").length,
        "GNU tar lists the same number of entries");

    Map<String, String> expected = new TreeMap<>();
    mount.remove("lost+found");
    mount.forEach((k, v) -> {
      String parent = k.contains("/") ? k.substring(0, k.lastIndexOf('/') + 1) : "";
      String base = k.substring(parent.length());
      String[] f = v.split(" ", 6);
      String mtime = f[4];
      if (v.startsWith("20000 ") && f[5].startsWith("0:0")) {
        expected.put(parent + ".wh." + base, "100600 " + f[1] + " s0 " + mtime + " " + EMPTY_SHA256);
        return;
      }
      if (v.contains(" trusted.overlay.opaque=79")) {
        v = v.replace(" trusted.overlay.opaque=79", "");
        int perm = Integer.parseInt(f[0], 8) & 07777;
        expected.put(k + "/.wh..wh..opq", "100" + Integer.toOctalString(perm) + " " + f[1] + " s0 " + mtime + " "
            + EMPTY_SHA256);
      }
      expected.put(k, normalize(v));
    });
    Map<String, String> got = new TreeMap<>();
    Map<String, String> byName = new HashMap<>();
    List<String> gotOrder = new ArrayList<>();
    for (RawTar.Entry e : entries) {
      String name = e.name().endsWith("/") ? e.name().substring(0, e.name().length() - 1) : e.name();
      String line;
      if (e.type() == '1') {
        line = byName.get(e.link());
        assertTrue(line != null, "hard link " + name + " to " + e.link() + " precedes its target");
      } else {
        line = tarLine(e);
        byName.put(name, line);
      }
      got.put(name, line);
      String base = name.substring(name.lastIndexOf('/') + 1);
      if (!base.equals(".wh..wh..opq")) {
        gotOrder.add(base.startsWith(".wh.") ? name.replace(".wh." + base.substring(4), base.substring(4)) : name);
      }
    }
    assertEquals(expected.keySet(), got.keySet());
    for (String k : expected.keySet()) {
      assertEquals(expected.get(k), got.get(k), k);
    }
    assertEquals(order, gotOrder, "depth-first, bytewise sorted entry order");
  }

  @Test
  void sandboxExportsUpperOrTheWholeTreeWithoutUpper() throws IOException {
    Path withUpper = KernelImages.build(tmp.resolve("s.img"), 16, List.of(), r -> {
      Files.createDirectories(r.resolve("upper/etc"));
      Files.createDirectories(r.resolve("work/work"));
      Files.writeString(r.resolve("upper/etc/hosts"), "127.0.0.1 localhost\n");
    });
    Path scratch = KernelImages.build(tmp.resolve("f.img"), 16, List.of(), r -> {
      Files.writeString(r.resolve("hello"), "from scratch");
      Files.writeString(r.resolve("lost+found/recovered"), "e2fsck found me");
    });
    assertEquals(List.of("etc/", "etc/hosts"), names(withUpper, ExportMode.SANDBOX));
    assertEquals(List.of("upper/", "upper/etc/", "upper/etc/hosts", "work/", "work/work/"),
        names(withUpper, ExportMode.LAYER));
    assertEquals(List.of("hello", "lost+found/", "lost+found/recovered"), names(scratch, ExportMode.SANDBOX));
  }

  private static List<String> names(Path img, ExportMode mode) throws IOException {
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
      ByteArrayOutputStream bo = new ByteArrayOutputStream();
      Ext4ToTar.export(r, mode, bo);
      List<String> out = new ArrayList<>();
      for (RawTar.Entry e : RawTar.read(bo.toByteArray())) {
        out.add(e.name());
      }
      return out;
    }
  }

  @Test
  void namesThatAreNotUtf8ComeOutByteExact() throws IOException {
    Path img = KernelImages.build(tmp.resolve("n.img"), 16, List.of(), r -> {
      Files.createDirectories(r.resolve("dir"));
      HostTools.check("bash", "-c", "cd " + r + "/dir && printf latin > \"$(printf 'caf\\351')\""
          + " && ln -s \"$(printf 'caf\\351')\" \"$(printf 'l\\377nk')\" && ln \"$(printf 'caf\\351')\" hard");
    });
    Path tar = tmp.resolve("n.tar");
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img)); java.io.OutputStream o = Files.newOutputStream(tar)) {
      Ext4ToTar.export(r, ExportMode.LAYER, o);
    }
    Path x = Files.createDirectory(tmp.resolve("x"));
    HostTools.check("tar", "-xf", tar.toString(), "-C", x.toString());
    HostTools.check("bash", "-c", "cd " + x + "/dir && test \"$(cat \"$(printf 'caf\\351')\")\" = latin"
        + " && test \"$(readlink \"$(printf 'l\\377nk')\")\" = \"$(printf 'caf\\351')\""
        + " && test \"$(stat -c %h hard)\" = 2");
  }

  @Test
  void anXattrNameWithAnEqualsSignIsRefusedNamingThePathAndTheXattr() throws IOException {
    Path img = KernelImages.build(tmp.resolve("eq.img"), 16, List.of(), r -> {
      Files.createDirectories(r.resolve("d"));
      Files.writeString(r.resolve("d/f"), "x");
      HostTools.check("setfattr", "-n", "user.a=b", "-v", "1", r.resolve("d/f").toString());
    });
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
      LayerTarException e = org.junit.jupiter.api.Assertions.assertThrows(LayerTarException.class,
          () -> Ext4ToTar.export(r, ExportMode.LAYER, new ByteArrayOutputStream()));
      assertTrue(e.getMessage().contains("d/f") && e.getMessage().contains("user.a=b")
          && e.getMessage().contains("'='"), e.getMessage());
    }
  }

  @Test
  void paxTimesFollowGoFormatting() {
    assertEquals("1", PaxTarWriter.paxTime(java.time.Instant.ofEpochSecond(1)));
    assertEquals("1.5", PaxTarWriter.paxTime(java.time.Instant.ofEpochSecond(1, 500_000_000)));
    assertEquals("-1.5", PaxTarWriter.paxTime(java.time.Instant.ofEpochSecond(-2, 500_000_000)));
    assertEquals("-3", PaxTarWriter.paxTime(java.time.Instant.ofEpochSecond(-3)));
    assertEquals("0.000000001", PaxTarWriter.paxTime(java.time.Instant.ofEpochSecond(0, 1)));
  }

  private static String normalize(String mountLine) {
    String v = mountLine.replaceFirst(" n\\d+", "");
    if (v.startsWith("4") || v.startsWith("12")) {
      v = v.replaceFirst(" s\\d+", " s0");
    }
    return v;
  }

  private static String tarLine(RawTar.Entry e) {
    String extra = e.type() == '0' ? e.digest() : e.type() == '2' ? "-> " + e.link()
        : e.type() == '3' || e.type() == '4' ? e.devMajor() + ":" + e.devMinor() : "";
    StringBuilder x = new StringBuilder();
    e.xattrs().forEach((k, v) -> x.append(' ').append(k).append('=').append(HexFormat.of().formatHex(v)));
    return String.format("%o %d:%d s%d m%s %s%s", e.mode(), e.uid(), e.gid(), e.size(), e.mtime(), extra, x);
  }

  /** The export order computed from the kernel's view: depth-first, children bytewise sorted, no lost+found. */
  static List<String> dfsOrder(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    dfs(root, root, out);
    out.remove("lost+found");
    return out;
  }

  private static void dfs(Path root, Path dir, List<String> out) throws IOException {
    List<Path> kids = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      ds.forEach(kids::add);
    }
    kids.sort((a, b) -> Arrays.compareUnsigned(a.getFileName().toString().getBytes(),
        b.getFileName().toString().getBytes()));
    for (Path k : kids) {
      String rel = root.relativize(k).toString();
      if (rel.equals("lost+found")) {
        continue;
      }
      out.add(rel);
      if (Files.isDirectory(k, LinkOption.NOFOLLOW_LINKS)) {
        dfs(root, k, out);
      }
    }
  }

}
