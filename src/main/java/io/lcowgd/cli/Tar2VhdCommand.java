package io.lcowgd.cli;

import io.lcowgd.convert.ConvertOptions;
import io.lcowgd.convert.ConvertResult;
import io.lcowgd.convert.TarToExt4;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/** {@code lcow tar2vhd IN.tar|- OUT.vhd}: converts a layer tar into an ext4 image with a fixed-VHD footer. */
public final class Tar2VhdCommand implements Command {

  @Override
  public String name() {
    return "tar2vhd";
  }

  @Override
  public String usage() {
    return "IN.tar|- OUT.vhd   convert a layer tar (stdin with -) into ext4 in a fixed VHD";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    if (args.size() != 2) {
      err.println("usage: lcow tar2vhd " + usage());
      return 2;
    }
    Path target = Path.of(args.get(1));
    long t0 = System.nanoTime();
    ConvertResult r;
    // A FileInputStream lets the converter copy large files straight from the tar file (stdin too, if redirected).
    try (InputStream in = args.get(0).equals("-")
        ? new FileInputStream(FileDescriptor.in) : new FileInputStream(args.get(0))) {
      r = TarToExt4.convert(in, target, ConvertOptions.defaults());
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    err.printf("tar2vhd: %d entries, content %d bytes, tar %d bytes, image %d bytes, %.2f s%n",
        r.entries(), r.contentSize(), r.tarBytes(), r.imageSize(), secs);
    return 0;
  }
}
