package io.lcowgd.lcow;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.testing.TarFixtures;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Benchmark (not a test): Changes and DiffSize of a sandbox holding 2000 small files and a 100 MB file, on the host
 * ({@code LayerChanges} on the image) and in a UML guest ({@code lcow.svm=uml}), safe mode (a guest booted per call)
 * and global mode (the shared guest already running). Prints each time and the median of each kind.
 *
 * <p>Usage: {@code scripts/bench-changes.sh} (builds the guest and the classpath), or {@code java -cp ...
 * io.lcowgd.lcow.GuestChangesBench WORKDIR KIRDPATH [RUNS]}.
 */
public final class GuestChangesBench {
  private GuestChangesBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    String kird = args[1];
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    for (String global : List.of("true", "false")) {
      Path dir = Files.createTempDirectory(work, "bench");
      try (LcowDriver d = LcowDriver.open(dir.resolve("state"), DriverConfig.DEFAULTS.withOptions(List.of(
          "lcow.svm=uml", "lcow.kirdpath=" + kird, "lcow.globalmode=" + global)))) {
        d.init(dir.resolve("home").toString(), null, null, null);
        d.create("L1", "", "", null);
        d.applyDiff("L1", "", new ByteArrayInputStream(baseTar(dir)));
        d.createReadWrite("c", "L1", "", null);
        Path m = Path.of(d.get("c", ""));
        Random r = new Random(1);
        for (int i = 0; i < 2000; i++) {
          Path sub = Files.createDirectories(m.resolve("data/d" + (i / 100)));
          byte[] b = new byte[64 + r.nextInt(2000)];
          r.nextBytes(b);
          Files.write(sub.resolve("f" + i), b);
        }
        byte[] chunk = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(m.resolve("big.bin"))) {
          for (int i = 0; i < 100; i++) {
            r.nextBytes(chunk);
            o.write(chunk);
          }
        }
        d.put("c");
        String mode = global.equals("true") ? "global" : "safe";
        if (global.equals("true")) {
          d.changes("c", ""); // boot the shared guest before timing
          time("host   Changes ", runs, () -> LayerDiffs.changes(d.current(), "c", null).size());
          time("host   DiffSize", runs, () -> LayerDiffs.diffSize(d.current(), "c", null));
        }
        List<Change> host = LayerDiffs.changes(d.current(), "c", null);
        if (!host.equals(d.changes("c", "")) || LayerDiffs.diffSize(d.current(), "c", null) != d.diffSize("c", "")) {
          throw new AssertionError("guest and host results differ");
        }
        System.out.println("(" + host.size() + " changes, DiffSize " + d.diffSize("c", "") + " bytes)");
        time("uml " + mode + " Changes ", runs, () -> d.changes("c", "").size());
        time("uml " + mode + " DiffSize", runs, () -> d.diffSize("c", ""));
      } finally {
        new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor();
      }
    }
  }

  private interface Op {
    Object run() throws IOException;
  }

  private static void time(String what, int runs, Op op) throws IOException {
    List<Long> ms = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      op.run();
      ms.add((System.nanoTime() - t0) / 1_000_000);
    }
    List<Long> sorted = new ArrayList<>(ms);
    sorted.sort(null);
    System.out.println(what + ": median " + sorted.get(sorted.size() / 2) + " ms, runs " + ms);
  }

  private static byte[] baseTar(Path dir) throws Exception {
    Path src = Files.createDirectories(dir.resolve("src"));
    for (String p : List.of("bin", "etc", "usr/bin", "var/lib", "tmp")) {
      Files.createDirectories(src.resolve(p));
    }
    for (int i = 0; i < 300; i++) {
      Files.writeString(src.resolve("usr/bin/tool" + i), "tool " + i);
    }
    Files.writeString(src.resolve("etc/passwd"), "root:x:0:0\n");
    return TarFixtures.gnuTarOf(src, ".");
  }
}
