package io.lcowgd.svm.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import io.lcowgd.disk.PayloadRange;
import io.lcowgd.posix.LibC;
import io.lcowgd.svm.AccessMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A loop block device bound to a byte range of an image file, made with {@code LOOP_CTL_GET_FREE} and
 * {@code LOOP_CONFIGURE} (flags {@code LO_FLAGS_AUTOCLEAR}, plus {@code LO_FLAGS_READ_ONLY} for read-only).
 *
 * <p>This object keeps the device open for its whole life, so the device cannot be cleared (autoclear) or reused
 * by another process while we use it; {@link #close()} issues {@code LOOP_CLR_FD} on that descriptor and closes
 * it. If the JVM dies, the kernel closes the descriptor and autoclear frees the device once nothing mounts it.
 */
final class LoopDevice implements AutoCloseable {
  private static final long LOOP_CTL_GET_FREE = 0x4C82;
  private static final long LOOP_CONFIGURE = 0x4C0A;
  private static final long LOOP_CLR_FD = 0x4C01;
  private static final int LO_FLAGS_READ_ONLY = 1;
  private static final int LO_FLAGS_AUTOCLEAR = 4;
  private static final int LOOP_CONFIG_SIZE = 304;
  private static final int INFO = 8; // offset of struct loop_info64 in struct loop_config

  private final int number;
  private final String devicePath;
  private int fd;

  private LoopDevice(int number, String devicePath, int fd) {
    this.number = number;
    this.devicePath = devicePath;
    this.fd = fd;
  }

  /** The device node, e.g. {@code /dev/loop7}. */
  String path() {
    return devicePath;
  }

  int number() {
    return number;
  }

  /** Binds {@code range} of {@code image} to a free loop device. */
  static LoopDevice attach(Path image, PayloadRange range, AccessMode mode) throws IOException {
    boolean ro = mode == AccessMode.READ_ONLY;
    int fileFd = Sys.open(image.toString(), ro ? LibC.O_RDONLY : LibC.O_RDWR);
    try {
      for (int attempt = 0; ; attempt++) {
        int n = getFree();
        String dev = "/dev/loop" + n;
        int devFd = openDevice(n, dev, ro);
        try {
          configure(devFd, fileFd, image, range, ro);
          return new LoopDevice(n, dev, devFd);
        } catch (Sys.ErrnoException e) {
          Sys.close(devFd);
          // Another process (losetup, another instance) took the same free device between the two calls.
          if (e.errno != LibC.EBUSY || attempt >= 20) {
            throw new IOException("bind " + image + " (" + range + ") to " + dev + ": " + e.getMessage(), e);
          }
        }
      }
    } finally {
      Sys.close(fileFd);
    }
  }

  private static int getFree() throws IOException {
    int ctl = Sys.open("/dev/loop-control", LibC.O_RDWR);
    try {
      return LibC.INSTANCE.ioctl(ctl, new NativeLong(LOOP_CTL_GET_FREE), new NativeLong(0));
    } catch (LastErrorException e) {
      throw Sys.error("ioctl LOOP_CTL_GET_FREE on /dev/loop-control", e);
    } finally {
      Sys.close(ctl);
    }
  }

  private static int openDevice(int n, String dev, boolean ro) throws IOException {
    try {
      return Sys.open(dev, ro ? LibC.O_RDONLY : LibC.O_RDWR);
    } catch (Sys.ErrnoException e) {
      if (e.errno != LibC.ENOENT) {
        throw e;
      }
    }
    // No devtmpfs node (e.g. a minimal plugin rootfs): make it from the major:minor the kernel reports.
    String majMin;
    try {
      majMin = Files.readString(Path.of("/sys/block/loop" + n + "/dev")).trim();
    } catch (NoSuchFileException e) {
      throw new IOException("loop device " + n + " has neither " + dev + " nor a sysfs entry", e);
    }
    String[] mm = majMin.split(":");
    long major = Long.parseLong(mm[0]);
    long minor = Long.parseLong(mm[1]);
    long devT = ((major & 0xfffL) << 8) | (minor & 0xffL) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    try {
      LibC.INSTANCE.mknod(dev, 0060000 | 0660, devT);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != 17) { // EEXIST: someone made it meanwhile
        throw Sys.error("mknod " + dev + " b " + majMin, e);
      }
    }
    return Sys.open(dev, ro ? LibC.O_RDONLY : LibC.O_RDWR);
  }

  private static void configure(int devFd, int fileFd, Path image, PayloadRange range, boolean ro)
      throws Sys.ErrnoException {
    try (Memory cfg = new Memory(LOOP_CONFIG_SIZE)) {
      cfg.clear();
      cfg.setInt(0, fileFd);
      cfg.setInt(4, 0); // block_size: default 512
      cfg.setLong(INFO + 24, range.offset());
      cfg.setLong(INFO + 32, range.length());
      cfg.setInt(INFO + 52, LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0));
      byte[] name = image.toString().getBytes(StandardCharsets.UTF_8);
      int len = Math.min(name.length, 63);
      // lo_file_name keeps the tail of long paths: the part that names the layer.
      cfg.write(INFO + 56, name, name.length - len, len);
      try {
        LibC.INSTANCE.ioctl(devFd, new NativeLong(LOOP_CONFIGURE), cfg);
      } catch (LastErrorException e) {
        throw Sys.error("ioctl LOOP_CONFIGURE", e);
      }
    }
  }

  /**
   * Clears the device ({@code LOOP_CLR_FD}) and closes our descriptor; idempotent. If another opener (udev probing
   * the device, say) still holds it, the kernel only marks it for autoclear; this waits up to a second for that so
   * callers see the device gone when close returns.
   */
  @Override
  public synchronized void close() throws IOException {
    if (fd < 0) {
      return;
    }
    String backing = backingFile();
    clearAndClose();
    if (backing == null) {
      return;
    }
    for (int i = 0; i < 100 && backing.equals(backingFile()); i++) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** The backing file the kernel reports for this device, or null if it is not bound. */
  private String backingFile() {
    try {
      return Files.readString(Path.of("/sys/block/loop" + number + "/loop/backing_file")).trim();
    } catch (IOException e) {
      return null;
    }
  }

  private void clearAndClose() throws IOException {
    try {
      LibC.INSTANCE.ioctl(fd, new NativeLong(LOOP_CLR_FD), new NativeLong(0));
    } catch (LastErrorException e) {
      // ENXIO: already cleared. EBUSY cannot happen with autoclear set (the kernel defers the clear instead).
      if (e.getErrorCode() != LibC.ENXIO) {
        Sys.close(fd);
        fd = -1;
        throw Sys.error("ioctl LOOP_CLR_FD on " + devicePath, e);
      }
    } finally {
      if (fd >= 0) {
        Sys.close(fd);
        fd = -1;
      }
    }
  }

  /** Clears loop device {@code n} if it is still bound (stale clean-up); returns whether it was. */
  static boolean clear(int n) throws IOException {
    String dev = "/dev/loop" + n;
    int f;
    try {
      f = Sys.open(dev, LibC.O_RDONLY);
    } catch (Sys.ErrnoException e) {
      return false;
    }
    try {
      LibC.INSTANCE.ioctl(f, new NativeLong(LOOP_CLR_FD), new NativeLong(0));
      return true;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == LibC.ENXIO) {
        return false;
      }
      throw Sys.error("ioctl LOOP_CLR_FD on " + dev, e);
    } finally {
      Sys.close(f);
    }
  }
}
