package io.lcowgd.protocol;

import com.sun.management.OperatingSystemMXBean;
import io.lcowgd.protocol.transport.UnixSocketListener;
import io.lcowgd.testing.RecordingDriver;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Micro-benchmark server for the ApplyDiff receive path (not a test): serves a {@link RecordingDriver}, whose
 * applyDiff reads the body to its end, on a unix socket and prints the process CPU time and wall time of every
 * ApplyDiff. Drive it with {@code scripts/bench-applydiff-body.py}, which sends a layer tar as dockerd does (one
 * flushed chunk per tar header and per 32 KiB slice).
 *
 * <p>Usage: {@code java -cp ... io.lcowgd.protocol.ChunkedUploadBench SOCKET}
 */
public final class ChunkedUploadBench {
  private ChunkedUploadBench() {}

  public static void main(String[] args) throws Exception {
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    RecordingDriver driver = new RecordingDriver();
    driver.on("applyDiff", a -> {
      long cpu0 = os.getProcessCpuTime();
      long t0 = System.nanoTime();
      byte[] buf = new byte[64 << 10];
      long n = 0;
      java.io.InputStream in = (java.io.InputStream) a[2];
      for (int r; (r = in.read(buf)) >= 0; ) {
        n += r;
      }
      long cpu = os.getProcessCpuTime() - cpu0;
      long wall = System.nanoTime() - t0;
      System.out.printf("applydiff bytes=%d wall_ms=%d server_cpu_ms=%d%n", n, wall / 1_000_000, cpu / 1_000_000);
      System.out.flush();
      return n;
    });
    try (PluginServer s = PluginServer.start(driver,
        List.of(new UnixSocketListener(Path.of(args[0]), Optional.empty())))) {
      System.out.println("ready");
      System.out.flush();
      Thread.currentThread().join();
    }
  }
}
