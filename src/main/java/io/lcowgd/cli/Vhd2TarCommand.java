package io.lcowgd.cli;

import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.image.DiskImages;
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
    return "[--sandbox] IMAGE > out.tar   export a .vhd, .vhdx or raw ext4 image as a layer tar";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    ExportMode mode = ExportMode.LAYER;
    String image = null;
    for (String a : args) {
      if (a.equals("--sandbox")) {
        mode = ExportMode.SANDBOX;
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
    // Standard output is written through a FileOutputStream on fd 1 when it is the process's own stdout (no
    // PrintStream locking or autoflush on the hot path).
    OutputStream sink = out == System.out ? new FileOutputStream(FileDescriptor.out) : out;
    try (Ext4Reader r = Ext4Reader.open(DiskImages.open(Path.of(image)))) {
      Ext4ToTar.export(r, mode, sink);
    }
    sink.flush();
    return 0;
  }
}
