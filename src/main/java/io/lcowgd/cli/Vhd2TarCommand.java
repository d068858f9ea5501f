package io.lcowgd.cli;

import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.image.DiskImages;
import io.lcowgd.io.NonClosing;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/** {@code lcow vhd2tar [--sandbox] IMAGE}: writes the image's layer tar to standard output. */
public final class Vhd2TarCommand implements Command {
  @Override
  public String name() {
    return "vhd2tar";
  }

  @Override
  public String usage() {
    return "[--sandbox] [-o OUT.tar] [--repeat N] IMAGE   export a .vhd, .vhdx or raw ext4 image as a layer tar"
        + " (stdout by default; --repeat times N exports in one JVM, for benchmarks)";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    ExportMode mode = ExportMode.LAYER;
    String image = null;
    String output = null;
    int repeat = 1;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--sandbox")) {
        mode = ExportMode.SANDBOX;
      } else if (a.equals("-o") && i + 1 < args.size()) {
        output = args.get(++i);
      } else if (a.equals("--repeat") && i + 1 < args.size() && args.get(i + 1).matches("[1-9][0-9]{0,3}")) {
        repeat = Integer.parseInt(args.get(++i));
      } else if (a.startsWith("-") || image != null) {
        err.println("usage: lcow vhd2tar " + usage());
        return 2;
      } else {
        image = a;
      }
    }
    if (image == null) {
      err.println("usage: lcow vhd2tar " + usage());
      return 2;
    }
    for (int run = 1; run <= repeat; run++) {
      long t0 = System.nanoTime();
      // Standard output is written through a FileOutputStream on fd 1 when it is the process's own stdout (no
      // PrintStream locking or autoflush on the hot path).
      try (OutputStream sink = output != null ? new FileOutputStream(output)
          : NonClosing.output(out == System.out ? new FileOutputStream(FileDescriptor.out) : out);
          Ext4Reader r = Ext4Reader.open(DiskImages.open(Path.of(image)))) {
        long bytes = Ext4ToTar.export(r, mode, sink);
        sink.flush();
        if (repeat > 1) {
          err.printf("run %d: %.3f s, %d content bytes%n", run, (System.nanoTime() - t0) / 1e9, bytes);
        }
      }
    }
    return 0;
  }
}
