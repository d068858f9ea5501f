package io.lcowgd.convert;

import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Benchmark driver for {@code scripts/bench-tar2vhd.sh}: converts each tar several times in one warm JVM (as the
 * plugin runs conversions) and prints one line per tar: {@code <tar> <bytes> <median s> <min s>}.
 *
 * <p>Usage: {@code java -cp lcow-graphdriver.jar io.lcowgd.convert.ConvertBench RUNS OUT.vhd TAR...}. One untimed
 * warm-up conversion precedes the timed runs of each tar; {@code sync} runs (untimed) before every conversion so
 * that earlier dirty pages do not slow the next run.
 *
 * <p>Serve mode, {@code ConvertBench --serve OUT.vhd}: reads one tar path per line from stdin, converts it and
 * prints the seconds taken, so a script can interleave our runs with other tools' runs in one warm JVM.
 */
public final class ConvertBench {
  private ConvertBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("--serve")) {
      serve(Path.of(args[1]));
      return;
    }
    if (args.length < 3) {
      System.err.println("usage: ConvertBench RUNS OUT.vhd TAR...");
      System.exit(2);
    }
    int runs = Integer.parseInt(args[0]);
    Path out = Path.of(args[1]);
    for (int a = 2; a < args.length; a++) {
      Path tar = Path.of(args[a]);
      List<Double> times = new ArrayList<>();
      for (int i = 0; i <= runs; i++) {
        Files.deleteIfExists(out);
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        long t0 = System.nanoTime();
        try (InputStream in = new FileInputStream(tar.toFile())) {
          TarToExt4.convert(in, out, ConvertOptions.defaults());
        }
        double s = (System.nanoTime() - t0) / 1e9;
        if (i > 0) {
          times.add(s);
        }
      }
      Collections.sort(times);
      System.err.println(tar + " times " + times);
      System.out.printf("%s %d %.4f %.4f%n", tar, Files.size(tar), times.get(times.size() / 2), times.get(0));
    }
    Files.deleteIfExists(out);
  }

  private static void serve(Path out) throws Exception {
    java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    for (String line; (line = r.readLine()) != null; ) {
      Files.deleteIfExists(out);
      long t0 = System.nanoTime();
      try (InputStream in = new FileInputStream(line.trim())) {
        TarToExt4.convert(in, out, ConvertOptions.defaults());
      }
      System.out.printf("%.4f%n", (System.nanoTime() - t0) / 1e9);
      System.out.flush();
    }
    Files.deleteIfExists(out);
  }
}
