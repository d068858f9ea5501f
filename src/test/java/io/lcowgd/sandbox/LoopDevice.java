package io.lcowgd.sandbox;

import io.lcowgd.testing.HostTools;
import java.io.IOException;
import java.nio.file.Path;

/** A loop device this test attached itself (and detaches on close; never touches other devices). */
final class LoopDevice implements AutoCloseable {
  final String device;

  private LoopDevice(String device) {
    this.device = device;
  }

  static LoopDevice attach(Path file, long offset, long size, boolean readOnly)
      throws IOException {
    String dev = readOnly
        ? HostTools.check("losetup", "--find", "--show", "--read-only", "--offset", Long.toString(offset),
            "--sizelimit", Long.toString(size), file.toString())
        : HostTools.check("losetup", "--find", "--show", "--offset", Long.toString(offset), "--sizelimit",
            Long.toString(size), file.toString());
    return new LoopDevice(dev.strip());
  }

  @Override
  public void close() throws IOException {
    HostTools.check("losetup", "-d", device);
  }
}
