package io.lcowgd.testing;

import com.sun.jna.LastErrorException;
import io.lcowgd.posix.LibC;
import java.io.IOException;
import java.nio.file.Path;

/** Creates device and FIFO nodes for test trees (mknod(2) through the project's libc binding; needs root for devices). */
public final class DeviceNodes {
  private DeviceNodes() {}

  /** Creates node {@code p}; {@code mode} includes the type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
  public static void mknod(Path p, int mode, int major, int minor) throws IOException {
    // Linux's new_encode_dev: minor bits 0-7 and 20-31, major bits 8-19.
    long dev = ((long) (major & 0xfff) << 8) | (minor & 0xff) | ((long) (minor & ~0xff) << 12);
    try {
      LibC.INSTANCE.mknod(p.toString(), mode, dev);
    } catch (LastErrorException e) {
      throw new IOException("mknod " + p + ": errno " + e.getErrorCode(), e);
    }
  }
}
