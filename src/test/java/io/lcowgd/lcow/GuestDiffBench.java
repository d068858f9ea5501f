package io.lcowgd.lcow;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.graphdriver.TarStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Benchmark (not a test): Diff of a sandbox holding one 100 MB random file (and optionally SMALL 1 KiB files), in
 * the guest ({@code lcow.svm=uml}) and on the host backend, through {@link LcowDriver} as dockerd's commit calls
 * it. Prints each run's wall time.
 *
 * <p>Usage: {@code java -cp target/classes:target/test-classes:<deps> io.lcowgd.lcow.GuestDiffBench WORK UVM_DIR
 * [RUNS] [MB] [SMALL]}
 */
public final class GuestDiffBench {
  private GuestDiffBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    String uvm = args[1];
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    int mb = args.length > 3 ? Integer.parseInt(args[3]) : 100;
    int small = args.length > 4 ? Integer.parseInt(args[4]) : 0;
    for (String global : List.of("false", "true")) {
      Path state = Files.createTempDirectory(work, "bench");
      try (LcowDriver driver = LcowDriver.open(state.resolve("state"), DriverConfig.DEFAULTS.withOptions(List.of(
          "lcow.svm=uml", "lcow.kirdpath=" + uvm, "lcow.globalmode=" + global)))) {
        driver.init(state.resolve("home").toString(), null, null, null);
        driver.create("L1", "", "", null);
        driver.applyDiff("L1", "", new ByteArrayInputStream(new byte[1024])); // an empty tar
        driver.createReadWrite("c", "L1", "", null);
        Path m = Path.of(driver.get("c", ""));
        byte[] chunk = new byte[1 << 20];
        Random r = new Random(42);
        try (OutputStream o = Files.newOutputStream(m.resolve("big.bin"))) {
          for (int i = 0; i < mb; i++) {
            r.nextBytes(chunk);
            o.write(chunk);
          }
        }
        for (int i = 0; i < small; i++) {
          Path d = Files.createDirectories(m.resolve("small/d" + (i / 100)));
          Files.write(d.resolve("f" + i), chunk.length > 1024 ? java.util.Arrays.copyOf(chunk, 1024) : chunk);
        }
        driver.put("c");
        for (int i = 0; i < runs; i++) {
          long t0 = System.nanoTime();
          long n = drain(driver.diff("c", "L1"));
          long guest = (System.nanoTime() - t0) / 1_000_000;
          t0 = System.nanoTime();
          long h = drain(LayerDiffs.diff(driver.current(), "c", "L1"));
          long host = (System.nanoTime() - t0) / 1_000_000;
          System.out.printf("globalmode=%s run %d: guest Diff %d bytes %d ms (%.0f MB/s), host Diff %d bytes %d ms%n",
              global, i, n, guest, n / 1e3 / Math.max(1, guest), h, host);
        }
        driver.remove("c");
        driver.remove("L1");
        driver.cleanup();
      }
    }
  }

  private static long drain(TarStream ts) throws IOException {
    long[] n = new long[1];
    try (ts) {
      ts.writeTo(new OutputStream() {
        @Override
        public void write(int b) {
          n[0]++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
          n[0] += len;
        }
      });
    }
    return n[0];
  }
}
