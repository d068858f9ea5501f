package io.lcowgd.convert;

import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.image.DiskImages;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Host Changes/DiffSize timing on converted layers (no root): a base of FILES files in directories of 100, an
 * upper rewriting, adding and whiting out a third each, and a middle layer touching every tenth directory; prints the
 * median of RUNS timed runs after warm-up. Usage: LayerChangesBench WORK_DIR [FILES] [RUNS].
 */
public final class LayerChangesBench {
  private LayerChangesBench() {}

  public static void main(String[] args) throws IOException {
    Path work = Files.createDirectories(Path.of(args[0]));
    int files = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 15;
    TarFixtures.Builder base = TarFixtures.builder();
    TarFixtures.Builder mid = TarFixtures.builder();
    TarFixtures.Builder up = TarFixtures.builder();
    for (int i = 0; i < files; i += 100) {
      base.dir("d" + i);
      if (i % 1000 == 0) {
        mid.dir("d" + i);
        mid.file("d" + i + "/mid", "m");
      }
      up.dir("d" + i);
      for (int j = 0; j < 100; j++) {
        String f = "d" + i + "/f" + (i + j);
        base.file(f, new byte[64]);
        switch (j % 3) {
          case 0 -> up.file(f, new byte[65]);
          case 1 -> up.file(f + "-new", new byte[66]);
          default -> up.file("d" + i + "/.wh.f" + (i + j), new byte[0]);
        }
      }
    }
    List<Ext4Reader> open = new ArrayList<>();
    try {
      LayerView b = layer(work, "base", base.toBytes(), open);
      LayerView m = layer(work, "mid", mid.toBytes(), open);
      LayerView u = layer(work, "up", up.toBytes(), open);
      List<LayerView> top = List.of(u);
      List<LayerView> parents = List.of(m, b);
      long[] ch = new long[runs];
      long[] ds = new long[runs];
      int n = 0;
      long size = 0;
      for (int w = 0; w < 5; w++) {
        n = LayerChanges.changes(top, parents).size();
        size = LayerChanges.diffSize(top, parents);
      }
      for (int r = 0; r < runs; r++) {
        long t0 = System.nanoTime();
        n = LayerChanges.changes(top, parents).size();
        long t1 = System.nanoTime();
        size = LayerChanges.diffSize(top, parents);
        ds[r] = System.nanoTime() - t1;
        ch[r] = t1 - t0;
      }
      Arrays.sort(ch);
      Arrays.sort(ds);
      System.out.printf("files=%d changes=%d size=%d  Changes median %.1f ms (min %.1f)  DiffSize median %.1f ms (min %.1f)%n",
          files, n, size, ch[runs / 2] / 1e6, ch[0] / 1e6, ds[runs / 2] / 1e6, ds[0] / 1e6);
    } finally {
      for (Ext4Reader r : open) {
        r.close();
      }
    }
  }

  private static LayerView layer(Path work, String name, byte[] tar, List<Ext4Reader> open) throws IOException {
    Path v = work.resolve(name + ".vhd");
    Files.deleteIfExists(v);
    TarToExt4.convert(new ByteArrayInputStream(tar), v, ConvertOptions.defaults());
    Ext4Reader r = Ext4Reader.open(DiskImages.open(v));
    open.add(r);
    return new LayerView(r, ExportMode.LAYER);
  }
}
