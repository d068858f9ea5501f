package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.image.DiskImages;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * tar -> image ({@link TarToExt4}, the writer) -> tar ({@link Ext4ToTar}) keeps every entry, its content and metadata
 * (compared in canonical form: names without {@code ./}, hard links as groups, whiteouts and opaque markers by name),
 * and a second round trip reproduces the first export byte for byte.
 */
class RoundTripTest {
  @TempDir Path tmp;

  /** PAX records for bin/ping in both corpora: a binary file capability, UTF-8 and binary xattrs, a fractional mtime. */
  static Map<String, byte[]> binaryXattrPax() {
    byte[] cap = {1, 0, 0, 2, (byte) 0x80, 0x04, 0, 0, 0, 0, 0, 0, (byte) 0xFF, 0, 0, 0, 0, 0, 0, 0};
    Map<String, byte[]> pax = new LinkedHashMap<>();
    pax.put("SCHILY.xattr.security.capability", cap);
    pax.put("SCHILY.xattr.user.note", "h\u00e9llo".getBytes(StandardCharsets.UTF_8));
    pax.put("SCHILY.xattr.trusted.bin", new byte[] {0, (byte) 0xC3, 0x28, (byte) 0xFE});
    pax.put("mtime", "1600000000.5".getBytes(StandardCharsets.US_ASCII));
    return pax;
  }

  /** The writer's corpus kinds: every entry type, PAX xattrs (binary), big ids, long and non-ASCII names, times. */
  static byte[] allEntryKinds() throws IOException {
    Map<String, byte[]> pax = binaryXattrPax();
    return TarFixtures.builder()
        .dir("etc")
        .file("etc/hosts", "127.0.0.1 localhost\n")
        .file("etc/empty", new byte[0])
        .file("etc/shadow", "secret", e -> { e.setMode(0100640); e.setIds(0, 42); })
        .dir("bin")
        .fileWithRawPax("bin/ping", new byte[5000], 0104755, pax)
        .file("bin/sgid", "x", e -> e.setMode(0102755))
        .dir("tmp", e -> e.setMode(041777))
        .file("big-ids", "ids", e -> { e.setUserId(100000); e.setGroupId(70000); })
        .symlink("short", "etc/hosts")
        .symlink("long", "a/" + "x".repeat(200))
        .symlink("max59", "y".repeat(59))
        .symlink("exact60", "z".repeat(60))
        .hardlink("hosts-link", "etc/hosts")
        .hardlink("etc/hosts-link2", "etc/hosts")
        .dir("dev")
        .charDev("dev/null", 1, 3)
        .charDev("dev/big", 300, 70000)
        .blockDev("dev/sda", 8, 0)
        .fifo("dev/fifo")
        .dir("d")
        .file("d/" + "n".repeat(255), "long component")
        .dir("lng")
        .dir("lng/" + "p".repeat(120))
        .dir("lng/" + "p".repeat(120) + "/" + "q".repeat(120))
        .file("lng/" + "p".repeat(120) + "/" + "q".repeat(120) + "/file", "long path")
        .file("\u00fcnic\u00f8de-\u65e5\u672c", "utf8 name")
        .file("old", "1", e -> e.addPaxHeader("mtime", "-618710399.75"))
        .file("future", "2", e -> e.addPaxHeader("mtime", "10413792000"))
        .dir("wh")
        .file("wh/.wh.group", new byte[0])
        .dir("wh/opq", e -> e.setMode(040711))
        .file("wh/opq/.wh..wh..opq", new byte[0])
        .file("wh/opq/kept", "k")
        .toBytes();
  }

  @Test
  void writerCorpusRoundTrips() throws IOException {
    roundTrip(allEntryKinds(), "all entry kinds");
  }

  /**
   * The writer's tars whose entries override each other (duplicates, a directory replaced by a file, hard links to
   * replaced files): extracting our export with GNU tar must give what extracting the original tar gives.
   */
  @Test
  void overridingTarsExportLikeGnuTarExtractsThem() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(HostTools.isRoot(), "GNU tar --same-owner needs root");
    byte[] big1 = new byte[600_000];
    byte[] big2 = new byte[300_000];
    new Random(1).nextBytes(big1);
    new Random(2).nextBytes(big2);
    byte[] dups = TarFixtures.builder()
        .file("dup", big1)
        .hardlink("keeps-old", "dup")
        .file("dup", big2)
        .file("dup2", "first")
        .file("dup2", "second", e -> e.setMode(0100600))
        .file("f2d", "file")
        .dir("f2d")
        .file("f2d/child", "c")
        .dir("d", e -> e.setMode(040700))
        .dir("d", e -> e.setMode(040750))
        .symlink("sym", "dup")
        .hardlink("sym-hard", "sym")
        .file("sym", "now a file")
        .fifo("x")
        .symlink("x", "dup2")
        .toBytes();
    byte[] replaced = TarFixtures.builder()
        .dir("d")
        .file("d/a", "a")
        .dir("d/sub")
        .file("d/sub/b", "b")
        .hardlink("outside", "d/sub/b")
        .file("d", "now a file")
        .toBytes();
    int n = 0;
    for (byte[] in : List.of(dups, replaced)) {
      Path inTar = java.nio.file.Files.write(tmp.resolve("in" + n + ".tar"), in);
      Path outTar = java.nio.file.Files.write(tmp.resolve("out" + n + ".tar"), exportOf(in, 1));
      Path a = tmp.resolve("a" + n);
      Path b = tmp.resolve("b" + n);
      for (Path[] pair : new Path[][] {{inTar, a}, {outTar, b}}) {
        java.nio.file.Files.createDirectories(pair[1]);
        HostTools.check("tar", "-x", "--recursive-unlink", "--xattrs", "--xattrs-include=*", "--same-owner",
            "--numeric-owner", "--same-permissions", "-f", pair[0].toString(), "-C", pair[1].toString());
      }
      assertEquals(LayerChangesTest.normalize(io.lcowgd.ext4.TreeSnapshot.ofMount(a)),
          LayerChangesTest.normalize(io.lcowgd.ext4.TreeSnapshot.ofMount(b)), "tar " + n);
      n++;
    }
  }

  static Stream<Long> seeds() {
    return IntStream.range(0, 24).mapToObj(i -> 1000L + i * 7919L);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void randomTreesRoundTrip(long seed) throws IOException {
    roundTrip(randomTree(seed), "seed " + seed + " (rerun with this seed to reproduce)");
  }

  private void roundTrip(byte[] in, String what) throws IOException {
    byte[] out1 = exportOf(in, 1);
    Map<String, String> want = canonical(RawTar.read(in));
    Map<String, String> got = canonical(RawTar.read(out1));
    StringBuilder diff = new StringBuilder();
    for (String k : new TreeSet<>(union(want.keySet(), got.keySet()))) {
      if (!java.util.Objects.equals(want.get(k), got.get(k))) {
        diff.append("\n  ").append(k).append(":\n    in:  ").append(want.get(k)).append("\n    out: ").append(got.get(k));
      }
    }
    assertEquals("", diff.toString(), what);
    byte[] out2 = exportOf(out1, 2);
    assertArrayEquals(out1, out2, what + ": second round trip differs");
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> u = new TreeSet<>(a);
    u.addAll(b);
    return u;
  }

  private byte[] exportOf(byte[] tar, int n) throws IOException {
    Path img = tmp.resolve("rt" + n + ".vhd");
    TarToExt4.convert(new ByteArrayInputStream(tar), img, n == 1 ? ConvertOptions.defaults()
        : ConvertOptions.defaults().withAppendVhdFooter(false));
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (Ext4Reader r = Ext4Reader.open(DiskImages.open(img))) {
      long size = Ext4ToTar.export(r, ExportMode.LAYER, bo);
      assertEquals(LayerChangesTest.sumOfEntrySizes(bo.toByteArray()), size);
    }
    return bo.toByteArray();
  }

  /** path -> canonical description; hard-link groups appended as one extra key. */
  static Map<String, String> canonical(List<RawTar.Entry> entries) {
    Map<String, String> out = new TreeMap<>();
    Map<String, String> lines = new HashMap<>();
    Map<String, Set<String>> groups = new HashMap<>();
    for (RawTar.Entry e : entries) {
      String name = clean(e.name());
      if (name.isEmpty()) {
        continue;
      }
      String base = name.substring(name.lastIndexOf('/') + 1);
      if (base.equals(".wh..wh..opq")) {
        out.put(name, "opaque marker");
        continue;
      }
      if (base.startsWith(".wh.")) {
        out.put(name, "whiteout");
        continue;
      }
      if (e.type() == '1') {
        String target = clean(e.link());
        out.put(name, lines.get(target));
        Set<String> g = groups.computeIfAbsent(target, k -> new TreeSet<>(List.of(k)));
        g.add(name);
        groups.put(name, g);
        continue;
      }
      StringBuilder x = new StringBuilder();
      e.xattrs().forEach((k, v) -> x.append(' ').append(k).append('=').append(HexFormat.of().formatHex(v)));
      String extra = e.type() == '0' ? e.digest() : e.type() == '2' ? "-> " + e.link()
          : e.type() == '3' || e.type() == '4' ? e.devMajor() + ":" + e.devMinor() : "";
      String line = String.format("%c %o %d:%d s%d m%s %s%s", e.type(), e.mode() & 07777, e.uid(), e.gid(),
          e.type() == '0' ? e.size() : 0, e.mtime(), extra, x);
      lines.put(name, line);
      out.put(name, line);
    }
    out.put(" hard link groups", new TreeSet<>(groups.values().stream().map(Set::toString).toList()).toString());
    return out;
  }

  private static String clean(String n) {
    while (n.startsWith("./") || n.startsWith("/")) {
      n = n.substring(n.startsWith("./") ? 2 : 1);
    }
    return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
  }

  /** A seeded random layer: nested directories listed before their contents, every entry kind, odd metadata. */
  static byte[] randomTree(long seed) throws IOException {
    Random rnd = new Random(seed);
    TarFixtures.Builder b = TarFixtures.builder();
    List<String> dirs = new ArrayList<>(List.of(""));
    List<String> files = new ArrayList<>();
    Set<String> used = new TreeSet<>();
    int n = 30 + rnd.nextInt(120);
    for (int i = 0; i < n; i++) {
      String parent = dirs.get(rnd.nextInt(dirs.size()));
      String name = parent + randomName(rnd, i);
      if (!used.add(name)) {
        continue;
      }
      String mtime = randomTime(rnd);
      long uid = rnd.nextInt(4) == 0 ? rnd.nextInt(3_000_000) : rnd.nextInt(2000);
      long gid = rnd.nextInt(4) == 0 ? rnd.nextInt(3_000_000) : rnd.nextInt(2000);
      java.util.function.Consumer<TarArchiveEntry> meta = e -> {
        e.setUserId(uid);
        e.setGroupId(gid);
        e.addPaxHeader("mtime", mtime);
      };
      switch (rnd.nextInt(12)) {
        case 0, 1 -> {
          int mode = 040000 | rnd.nextInt(01000) | 0700 | (rnd.nextInt(4) == 0 ? 01000 : 0);
          b.dir(name, e -> { meta.accept(e); e.setMode(mode); });
          dirs.add(name + "/");
          if (rnd.nextInt(6) == 0) {
            b.file(name + "/.wh..wh..opq", new byte[0]);
          }
        }
        case 2 -> b.symlink(name, rnd.nextBoolean() ? "t" + rnd.nextInt(100) : "/" + "long/".repeat(rnd.nextInt(40)));
        case 3 -> {
          if (!files.isEmpty()) {
            b.hardlink(name, files.get(rnd.nextInt(files.size())));
          }
        }
        case 4 -> {
          int kind = rnd.nextInt(3);
          if (kind == 0) {
            b.charDev(name, rnd.nextInt(300), rnd.nextInt(70000));
          } else if (kind == 1) {
            b.blockDev(name, rnd.nextInt(300), rnd.nextInt(300));
          } else {
            b.fifo(name);
          }
        }
        case 5 -> b.file(parent + ".wh." + randomName(rnd, i + 1000), new byte[0]);
        case 6 -> {
          Map<String, byte[]> pax = new LinkedHashMap<>();
          byte[] v = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 1500)];
          rnd.nextBytes(v);
          pax.put("SCHILY.xattr.user.r" + rnd.nextInt(10), v);
          pax.put("SCHILY.xattr.security.capability", new byte[] {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0});
          pax.put("mtime", mtime.getBytes(StandardCharsets.US_ASCII));
          byte[] data = new byte[rnd.nextInt(9000)];
          rnd.nextBytes(data);
          b.fileWithRawPax(name, data, 0100000 | rnd.nextInt(010000), pax);
          files.add(name);
        }
        default -> {
          int size = switch (rnd.nextInt(6)) {
            case 0 -> 0;
            case 1 -> 4096 * (1 + rnd.nextInt(4));
            case 2 -> rnd.nextInt(300_000);
            default -> rnd.nextInt(200);
          };
          byte[] data = new byte[size];
          if (rnd.nextBoolean()) {
            rnd.nextBytes(data);
          }
          int mode = 0100000 | rnd.nextInt(010000);
          b.file(name, data, e -> { meta.accept(e); e.setMode(mode); });
          files.add(name);
        }
      }
    }
    return b.toBytes();
  }

  private static String randomName(Random rnd, int i) {
    return switch (rnd.nextInt(8)) {
      case 0 -> "\u00e9t\u00e9-" + i;
      case 1 -> "L".repeat(100 + rnd.nextInt(150)) + i;
      case 2 -> "sp ace " + i;
      default -> "n" + i;
    };
  }

  private static String randomTime(Random rnd) {
    long sec = switch (rnd.nextInt(4)) {
      case 0 -> -rnd.nextInt(2_000_000_000);
      case 1 -> 4_000_000_000L + rnd.nextInt(1_000_000_000);
      default -> rnd.nextInt(2_000_000_000);
    };
    int nano = rnd.nextBoolean() ? 0 : rnd.nextInt(1_000_000_000);
    return PaxTarWriter.paxTime(Instant.ofEpochSecond(sec, nano));
  }
}
