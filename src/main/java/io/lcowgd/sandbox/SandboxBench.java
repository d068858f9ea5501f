package io.lcowgd.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Benchmark behind {@code scripts/bench-sandbox.sh}: times making a 20 GB template from nothing and cloning N
 * sandboxes from it, and measures the disk space each clone allocates. Prints figures; asserts nothing.
 * Usage: {@code SandboxBench WORKDIR [CLONES] [TEMPLATES]}; WORKDIR is created and removed.
 */
public final class SandboxBench {
  private SandboxBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : "/var/tmp/lcow-bench");
    int clones = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int templates = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    Files.createDirectories(work);
    try {
      double[] tms = new double[templates];
      long[] tkb = new long[templates];
      for (int i = 0; i < templates; i++) {
        SandboxFactory f = new SandboxFactory(work.resolve("cache-" + i));
        long t0 = System.nanoTime();
        Path t = f.template(SandboxFactory.DEFAULT_SIZE_GB);
        tms[i] = (System.nanoTime() - t0) / 1e6;
        tkb[i] = allocatedKb(List.of(t))[0];
      }
      System.out.println("template 20 GB from nothing (" + templates + " runs): " + stats(tms, "ms")
          + "; allocated " + stats(toDouble(tkb), "KB"));

      SandboxFactory f = new SandboxFactory(work.resolve("cache-0"));
      Path dir = Files.createDirectories(work.resolve("sandboxes"));
      double[] ms = new double[clones];
      List<Path> made = new ArrayList<>();
      CloneMethod method = null;
      for (int i = 0; i < clones; i++) {
        Path dest = dir.resolve("sb-" + i + ".vhdx");
        long t0 = System.nanoTime();
        method = f.create(dest, SandboxFactory.DEFAULT_SIZE_GB);
        ms[i] = (System.nanoTime() - t0) / 1e6;
        made.add(dest);
        if (i == 0) {
          System.out.printf(Locale.ROOT, "first clone (loads JNA): %.1f ms%n", ms[0]);
        }
      }
      long[] kb = allocatedKb(made);
      System.out.println("clone 20 GB sandbox x" + clones + " (" + method + "): " + stats(ms, "ms")
          + "; allocated per clone " + stats(toDouble(kb), "KB") + "; total " + Arrays.stream(kb).sum() + " KB");
    } finally {
      try (var s = Files.walk(work)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static long[] allocatedKb(List<Path> files) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("stat", "-c", "%b"));
    files.forEach(p -> cmd.add(p.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("stat failed: " + out);
    }
    return out.lines().mapToLong(l -> Long.parseLong(l.strip()) / 2).toArray();
  }

  private static double[] toDouble(long[] v) {
    return Arrays.stream(v).asDoubleStream().toArray();
  }

  private static String stats(double[] v, String unit) {
    double[] s = v.clone();
    Arrays.sort(s);
    double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    double p90 = s[Math.min(s.length - 1, (int) Math.ceil(s.length * 0.9) - 1)];
    return String.format(Locale.ROOT, "min %.1f / median %.1f / p90 %.1f / max %.1f %s", s[0], median, p90,
        s[s.length - 1], unit);
  }
}
