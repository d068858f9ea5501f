package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.ext4.KernelImages;
import io.lcowgd.ext4.TreeSnapshot;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.io.FileTrees;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.Xattrs;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Changes, DiffSize and squashed diffs on layer chains whose upper layers were written by the kernel's overlayfs, with
 * moby's graphtest expectations ({@code DriverTestChanges}, {@code DriverTestDiffApply}) and {@code docker diff} style
 * expectations.
 */
class LayerChangesTest {
  @TempDir Path tmp;

  @BeforeEach
  void root() {
    assumeTrue(HostTools.isRoot(), "needs root for loop and overlay mounts");
  }

  /** graphtest addManyFiles: directory-(i/100)*100/file-i with 64 random bytes, mode 0755. */
  static void addManyFiles(Path root, int count, long seed) throws IOException {
    for (int i = 0; i < count; i += 100) {
      Path dir = Files.createDirectories(root.resolve("directory-" + i));
      for (int j = 0; i + j < count && j < 100; j++) {
        write(dir.resolve("file-" + (i + j)), seed + i + j);
      }
    }
  }

  private static void write(Path p, long seed) throws IOException {
    byte[] b = new byte[64];
    new Random(seed).nextBytes(b);
    Files.write(p, b);
    HostTools.check("chmod", "0755", p.toString());
  }

  @Test
  void graphtestDriverTestChanges() throws IOException {
    List<Change> expected = new ArrayList<>();
    try (OverlayLab lab = new OverlayLab(tmp)) {
      OverlayLab.Layer base = lab.layer(r -> addManyFiles(r, 20, 3));
      OverlayLab.Layer upper = lab.sandbox(List.of(base), r -> {
        // graphtest changeManyFiles(count 20, seed 6)
        for (int i = 0; i < 20; i += 100) {
          String dir = "/directory-" + i;
          for (int j = 0; i + j < 20 && j < 100; j++) {
            if (j == 0) {
              expected.add(new Change(dir, Change.Kind.MODIFY));
            }
            switch (j % 3) {
              case 0 -> {
                write(r.resolve("directory-" + i + "/file-" + (i + j)), 6 + i + j);
                expected.add(new Change(dir + "/file-" + (i + j), Change.Kind.MODIFY));
              }
              case 1 -> {
                write(r.resolve("directory-" + i + "/file-6-" + (i + j)), 6 + i + j);
                expected.add(new Change(dir + "/file-6-" + (i + j), Change.Kind.ADD));
              }
              default -> {
                Files.delete(r.resolve("directory-" + i + "/file-" + (i + j)));
                expected.add(new Change(dir + "/file-" + (i + j), Change.Kind.DELETE));
              }
            }
          }
        }
      });
      List<Change> got = new ArrayList<>(LayerChanges.changes(List.of(lab.view(upper)), List.of(lab.view(base))));
      Comparator<Change> byPathKind = Comparator.comparing(Change::path).thenComparing(c -> c.kind().code());
      expected.sort(byPathKind);
      got.sort(byPathKind);
      assertEquals(expected, got);
    }
  }

  @Test
  void dockerDiffStyleChangesWithOpaqueDirsWhiteoutsAndUnchangedSymlinks() throws IOException {
    try (OverlayLab lab = new OverlayLab(tmp)) {
      OverlayLab.Layer base = lab.layer(r -> {
        Files.createDirectories(r.resolve("etc"));
        Files.writeString(r.resolve("etc/passwd"), "root:x:0:0\n");
        Files.writeString(r.resolve("etc/group"), "root:x:0:\n");
        Files.createDirectories(r.resolve("usr/bin"));
        Files.writeString(r.resolve("usr/bin/busybox"), "ELF");
        Files.createSymbolicLink(r.resolve("usr/bin/sh"), Path.of("busybox"));
        Files.createDirectories(r.resolve("var/lib/x"));
        Files.writeString(r.resolve("var/lib/x/y"), "y");
        Files.createDirectories(r.resolve("tmp"));
      });
      OverlayLab.Layer upper = lab.sandbox(List.of(base), r -> {
        Files.writeString(r.resolve("etc/x"), "new");
        Files.writeString(r.resolve("etc/passwd"), "root:x:0:0\nme:x:1000:1000\n");
        Files.delete(r.resolve("etc/group"));
        Files.delete(r.resolve("usr/bin/sh"));
        Files.createSymbolicLink(r.resolve("usr/bin/sh"), Path.of("busybox"));
        FileTrees.deleteTree(r.resolve("var/lib"));
        Files.createDirectory(r.resolve("var/lib"));
        Files.writeString(r.resolve("var/lib/new"), "n");
        HostTools.check("chmod", "0700", r.resolve("tmp").toString());
      });
      List<String> got = new ArrayList<>();
      for (Change c : LayerChanges.changes(List.of(lab.view(upper)), List.of(lab.view(base)))) {
        got.add("CAD".charAt(c.kind().code()) + " " + c.path());
      }
      assertEquals(List.of("C /etc", "D /etc/group", "C /etc/passwd", "A /etc/x", "C /tmp", "C /usr", "C /usr/bin",
          "C /var", "C /var/lib", "A /var/lib/new", "D /var/lib/x"), got);
    }
  }

  @Test
  void graphtestDiffApplySizeEqualsExportedTarSizeAndDiffSize() throws IOException {
    try (OverlayLab lab = new OverlayLab(tmp)) {
      OverlayLab.Layer base = lab.layer(r -> {
        addManyFiles(r, 50, 3);
        Files.writeString(r.resolve("file-remove.txt"), "This file should get removed in upper!");
        Files.createDirectories(r.resolve("var/lib"));
      });
      OverlayLab.Layer upper = lab.sandbox(List.of(base), r -> {
        addManyFiles(r, 50, 6);
        Files.delete(r.resolve("file-remove.txt"));
        FileTrees.deleteTree(r.resolve("var/lib"));
        Files.writeString(r.resolve("hard"), "0123456789");
        Files.createLink(r.resolve("hard2"), r.resolve("hard"));
        Files.createSymbolicLink(r.resolve("sym"), Path.of("directory-0/file-1"));
      });
      LayerView up = lab.view(upper);
      LayerView bv = lab.view(base);
      ByteArrayOutputStream diff = new ByteArrayOutputStream();
      long exported = Ext4ToTar.export(up.image(), ExportMode.SANDBOX, diff);
      long applySize = sumOfEntrySizes(diff.toByteArray());
      assertEquals(applySize, exported);
      assertEquals(50 * 64 + 10, applySize);
      assertEquals(applySize, LayerChanges.diffSize(List.of(up), List.of(bv)));
      assertEquals(applySize, LayerChanges.diffSize(List.of(up), List.of()));
      Map<String, String> names = entryTypes(diff.toByteArray());
      assertEquals("0", names.get(".wh.file-remove.txt"));
      assertEquals("0", names.get("var/.wh.lib"));
      assertEquals("1", names.get("hard2"));
      // Applying the diff onto the base must give what the overlay shows.
      Path applied = Files.createDirectory(tmp.resolve("applied"));
      KernelImages.withMount(base.image(), true, mp -> HostTools.check("cp", "-a", mp + "/.", applied.toString()));
      FileTrees.deleteTree(applied.resolve("lost+found"));
      TarApplier.apply(new ByteArrayInputStream(diff.toByteArray()), applied);
      Map<String, String> want = lab.withUnionReadOnly(List.of(upper, base), TreeSnapshot::ofMount);
      want.remove("lost+found");
      assertEquals(normalize(want), normalize(TreeSnapshot.ofMount(applied)));
    }
  }

  @Test
  void squashedDiffAgainstNonImmediateAncestorAppliesToTheUnion() throws IOException {
    try (OverlayLab lab = new OverlayLab(tmp)) {
      OverlayLab.Layer base = lab.layer(r -> {
        addManyFiles(r, 30, 3);
        Files.createDirectories(r.resolve("keep/deep"));
        Files.writeString(r.resolve("keep/deep/f"), "base");
        Files.createDirectories(r.resolve("gone/sub"));
        Files.writeString(r.resolve("gone/sub/f"), "base");
        Files.writeString(r.resolve("later-deleted"), "x");
      });
      OverlayLab.Layer s1 = lab.sandbox(List.of(base), r -> {
        Files.writeString(r.resolve("keep/deep/f"), "s1");
        Files.writeString(r.resolve("added-in-s1"), "s1");
        Files.writeString(r.resolve("added-then-deleted"), "tmp");
        FileTrees.deleteTree(r.resolve("gone"));
        Files.createDirectories(r.resolve("gone/other"));
        Files.writeString(r.resolve("gone/other/g"), "s1");
        Files.createSymbolicLink(r.resolve("link"), Path.of("keep/deep/f"));
      });
      OverlayLab.Layer s2 = lab.sandbox(List.of(s1, base), r -> {
        Files.delete(r.resolve("added-then-deleted"));
        Files.delete(r.resolve("later-deleted"));
        Files.writeString(r.resolve("directory-0/file-7"), "s2 rewrote");
        Files.writeString(r.resolve("hl"), "linked");
        Files.createLink(r.resolve("keep/hl-second"), r.resolve("hl"));
        Xattrs.set(r.resolve("hl"), "user.note", "squash".getBytes(StandardCharsets.UTF_8));
      });
      List<LayerView> top = lab.views(List.of(s2, s1));
      List<LayerView> baseChain = lab.views(List.of(base));
      ByteArrayOutputStream tar = new ByteArrayOutputStream();
      long written = LayerChanges.writeDiffTar(top, baseChain, tar);
      assertEquals(sumOfEntrySizes(tar.toByteArray()), written);
      assertEquals(written, LayerChanges.diffSize(top, baseChain));
      List<String> changes = new ArrayList<>();
      for (Change c : LayerChanges.changes(top, baseChain)) {
        changes.add("CAD".charAt(c.kind().code()) + " " + c.path());
      }
      assertEquals(List.of("A /added-in-s1", "C /directory-0", "C /directory-0/file-7", "C /gone", "A /gone/other",
          "A /gone/other/g", "D /gone/sub", "A /hl", "C /keep", "C /keep/deep", "C /keep/deep/f", "A /keep/hl-second",
          "D /later-deleted", "A /link"), changes);
      Path applied = Files.createDirectory(tmp.resolve("applied"));
      KernelImages.withMount(base.image(), true, mp -> HostTools.check("cp", "-a", mp + "/.", applied.toString()));
      FileTrees.deleteTree(applied.resolve("lost+found"));
      TarApplier.apply(new ByteArrayInputStream(tar.toByteArray()), applied);
      Map<String, String> want = lab.withUnionReadOnly(List.of(s2, s1, base), TreeSnapshot::ofMount);
      want.remove("lost+found");
      assertEquals(normalize(want), normalize(TreeSnapshot.ofMount(applied)));
    }
  }

  /**
   * Leaves out what depends on how a tree was built rather than on its content: directory link counts (overlayfs
   * reports 1 for merged directories), sizes and mtimes, and symlink mtimes (the JDK sets them with microseconds).
   */
  static Map<String, String> normalize(Map<String, String> snap) {
    Map<String, String> out = new TreeMap<>();
    snap.forEach((k, v) -> out.put(k, v.startsWith("4") ? v.replaceAll(" n\\d+ s\\d+ m\\S+", "")
        : v.startsWith("12") ? v.replaceAll(" m\\S+", "") : v));
    return out;
  }

  static long sumOfEntrySizes(byte[] tar) throws IOException {
    long sum = 0;
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        sum += e.getSize();
      }
    }
    return sum;
  }

  static Map<String, String> entryTypes(byte[] tar) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      TarArchiveEntry e;
      while ((e = in.getNextEntry()) != null) {
        out.put(e.getName(), e.isLink() ? "1" : e.isSymbolicLink() ? "2" : e.isDirectory() ? "5" : "0");
      }
    }
    return out;
  }
}
