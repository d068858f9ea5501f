package io.lcowgd.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.image.DiskImages;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * graphtest semantics on read-only layers built by our converter from tars (what ApplyDiff stores): Changes of a layer
 * against its parent, and DiffSize equal to the size ApplyDiff reports for the layer's own Diff.
 */
class LayerChangesConvertedTest {
  @TempDir Path tmp;
  private final List<Ext4Reader> open = new ArrayList<>();

  @AfterEach
  void close() throws IOException {
    for (Ext4Reader r : open) {
      r.close();
    }
  }

  private static byte[] content(long seed) {
    byte[] b = new byte[64];
    new Random(seed).nextBytes(b);
    return b;
  }

  private LayerView layer(String name, byte[] tar) throws IOException {
    Path v = tmp.resolve(name + ".vhd");
    TarToExt4.convert(new ByteArrayInputStream(tar), v, ConvertOptions.defaults());
    Ext4Reader r = Ext4Reader.open(DiskImages.open(v));
    open.add(r);
    return new LayerView(r, ExportMode.LAYER);
  }

  /** graphtest addManyFiles(count, seed) as a layer tar. */
  private static TarFixtures.Builder manyFiles(TarFixtures.Builder b, int count, long seed) throws IOException {
    for (int i = 0; i < count; i += 100) {
      b.dir("directory-" + i);
      for (int j = 0; i + j < count && j < 100; j++) {
        b.file("directory-" + i + "/file-" + (i + j), content(seed + i + j), e -> e.setMode(0100755));
      }
    }
    return b;
  }

  @Test
  void driverTestChangesOnConvertedLayers() throws IOException {
    LayerView base = layer("base", manyFiles(TarFixtures.builder(), 20, 3).toBytes());
    TarFixtures.Builder up = TarFixtures.builder().dir("directory-0", e -> e.addPaxHeader("mtime", "1700000000.5"));
    List<Change> expected = new ArrayList<>(List.of(new Change("/directory-0", Change.Kind.MODIFY)));
    for (int j = 0; j < 20; j++) {
      switch (j % 3) {
        case 0 -> {
          up.file("directory-0/file-" + j, content(6 + j), e -> e.setMode(0100755));
          expected.add(new Change("/directory-0/file-" + j, Change.Kind.MODIFY));
        }
        case 1 -> {
          up.file("directory-0/file-6-" + j, content(6 + j), e -> e.setMode(0100755));
          expected.add(new Change("/directory-0/file-6-" + j, Change.Kind.ADD));
        }
        default -> {
          up.file("directory-0/.wh.file-" + j, new byte[0]);
          expected.add(new Change("/directory-0/file-" + j, Change.Kind.DELETE));
        }
      }
    }
    LayerView upper = layer("upper", up.toBytes());
    List<Change> got = new ArrayList<>(LayerChanges.changes(List.of(upper), List.of(base)));
    Comparator<Change> order = Comparator.comparing(Change::path).thenComparing(c -> c.kind().code());
    expected.sort(order);
    assertEquals(expected, got, "already sorted by path");
  }

  @Test
  void driverTestDiffApplySizesAgree() throws IOException {
    LayerView base = layer("base", manyFiles(TarFixtures.builder(), 120, 3)
        .file("file-remove.txt", "This file should get removed in upper!")
        .dir("var").dir("var/lib").toBytes());
    LayerView upper = layer("upper", manyFiles(TarFixtures.builder(), 120, 6)
        .file(".wh.file-remove.txt", new byte[0])
        .file("var/.wh.lib", new byte[0])
        .file("hard", "0123456789")
        .hardlink("hard2", "hard")
        .symlink("sym", "hard").toBytes());
    long diffSize = LayerChanges.diffSize(List.of(upper), List.of());
    ByteArrayOutputStream diff = new ByteArrayOutputStream();
    long exported = Ext4ToTar.export(upper.image(), ExportMode.LAYER, diff);
    ConvertResult applied = TarToExt4.convert(new ByteArrayInputStream(diff.toByteArray()),
        tmp.resolve("diff.vhd"), ConvertOptions.defaults());
    assertEquals(120 * 64 + 10, diffSize);
    assertEquals(diffSize, exported);
    assertEquals(diffSize, applied.contentSize(), "ApplyDiff(diff, base, Diff(upper, base)) == DiffSize(upper)");
    assertEquals(diffSize, LayerChanges.diffSize(List.of(upper), List.of(base)));
    ByteArrayOutputStream squash = new ByteArrayOutputStream();
    assertEquals(diffSize, LayerChanges.writeDiffTar(List.of(upper), List.of(base), squash));
  }
}
