package io.lcowgd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A read-only loop mount of an ext4 image (or of the first {@code sizeLimit} bytes of a file, e.g. a fixed VHD minus
 * its footer), detached and removed again by {@link #close()}. Only the loop device this object created is touched.
 */
public final class LoopMount implements AutoCloseable {
  private final String device;
  private final Path mountPoint;
  private boolean closed;

  private LoopMount(String device, Path mountPoint) {
    this.device = device;
    this.mountPoint = mountPoint;
  }

  /** Mounts the whole file {@code image} read-only. */
  public static LoopMount ext4(Path image) throws IOException {
    return ext4(image, Files.size(image));
  }

  /** Mounts the first {@code sizeLimit} bytes of {@code image} read-only (use size - 512 for a fixed VHD). */
  public static LoopMount ext4(Path image, long sizeLimit) throws IOException {
    String dev = HostTools.check("losetup", "--find", "--show", "--read-only",
        "--sizelimit", Long.toString(sizeLimit), image.toString()).strip();
    Path mp = Files.createTempDirectory("lcow-mnt-");
    try {
      HostTools.check("mount", "-t", "ext4", "-o", "ro,noload", dev, mp.toString());
    } catch (IOException e) {
      HostTools.run(List.of("losetup", "-d", dev), 60);
      Files.deleteIfExists(mp);
      throw e;
    }
    return new LoopMount(dev, mp);
  }

  /** The mounted root directory. */
  public Path root() {
    return mountPoint;
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    HostTools.check("umount", mountPoint.toString());
    // The kernel may already have released the device (autoclear); only detach it if it is still ours.
    Path backing = Path.of("/sys/block", Path.of(device).getFileName().toString(), "loop", "backing_file");
    if (Files.exists(backing)) {
      HostTools.Result r = HostTools.run(List.of("losetup", "-d", device), 60);
      if (r.exit() != 0 && Files.exists(backing)) {
        throw new IOException("losetup -d " + device + " failed: " + (r.err() + r.out()).strip());
      }
    }
    Files.deleteIfExists(mountPoint);
  }
}
