package io.lcowgd.svm.host;

import com.sun.jna.LastErrorException;
import io.lcowgd.posix.LibC;
import io.lcowgd.svm.UnionSpec;
import java.io.IOException;

/**
 * Overlay mounts through the new mount API: {@code fsopen("overlay")}, one {@code fsconfig("lowerdir+", path)} per
 * layer (Linux 6.8+), {@code fsmount}, {@code move_mount}. Each lower path is passed on its own, so the one-page
 * limit of {@code mount(2)} data does not apply and the layer count is bounded only by overlayfs (500).
 */
final class NewMountApi {
  // Syscall numbers of the generic table, identical on x86_64 and aarch64.
  private static final long SYS_MOVE_MOUNT = 429;
  private static final long SYS_FSOPEN = 430;
  private static final long SYS_FSCONFIG = 431;
  private static final long SYS_FSMOUNT = 432;

  private static final int FSOPEN_CLOEXEC = 1;
  private static final int FSCONFIG_SET_STRING = 1;
  private static final int FSCONFIG_CMD_CREATE = 6;
  private static final int FSMOUNT_CLOEXEC = 1;
  private static final int MOUNT_ATTR_RDONLY = 1;
  private static final int MOVE_MOUNT_F_EMPTY_PATH = 4;
  private static final int AT_FDCWD = -100;

  /** Set once the kernel has shown it lacks {@code lowerdir+}; later mounts go straight to mount(2). */
  private static volatile boolean unsupported;

  private NewMountApi() {}

  /**
   * Mounts the overlay {@code spec} (lowers as given; upper/work if writable) at its target. Returns false, having
   * changed nothing, when the kernel lacks the API or {@code lowerdir+}; throws for any other failure.
   */
  static boolean mountOverlay(UnionSpec spec) throws IOException {
    if (unsupported) {
      return false;
    }
    LibC c = LibC.INSTANCE;
    int fs;
    try {
      fs = (int) c.syscall(SYS_FSOPEN, "overlay", FSOPEN_CLOEXEC);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == LibC.ENOSYS) {
        unsupported = true;
        return false;
      }
      throw Sys.error("fsopen overlay", e);
    }
    try {
      boolean first = true;
      for (String lower : spec.lowers()) {
        try {
          c.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, "lowerdir+", lower, 0);
        } catch (LastErrorException e) {
          if (first && e.getErrorCode() == LibC.EINVAL) {
            unsupported = true; // a kernel before 6.8: no "lowerdir+" parameter
            return false;
          }
          throw Sys.error("fsconfig lowerdir+ " + lower, e);
        }
        first = false;
      }
      if (spec.writable()) {
        set(c, fs, "upperdir", spec.upper());
        set(c, fs, "workdir", spec.work());
      }
      try {
        c.syscall(SYS_FSCONFIG, fs, FSCONFIG_CMD_CREATE, null, null, 0);
      } catch (LastErrorException e) {
        throw Sys.error("fsconfig create overlay for " + spec.target() + " (" + spec.lowers().size() + " lowers)", e);
      }
      int mnt;
      try {
        mnt = (int) c.syscall(SYS_FSMOUNT, fs, FSMOUNT_CLOEXEC, spec.writable() ? 0 : MOUNT_ATTR_RDONLY);
      } catch (LastErrorException e) {
        throw Sys.error("fsmount overlay for " + spec.target(), e);
      }
      try {
        c.syscall(SYS_MOVE_MOUNT, mnt, "", AT_FDCWD, spec.target(), MOVE_MOUNT_F_EMPTY_PATH);
      } catch (LastErrorException e) {
        throw Sys.error("move_mount overlay to " + spec.target(), e);
      } finally {
        Sys.close(mnt);
      }
      return true;
    } finally {
      Sys.close(fs);
    }
  }

  private static void set(LibC c, int fs, String key, String value) throws IOException {
    try {
      c.syscall(SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, key, value, 0);
    } catch (LastErrorException e) {
      throw Sys.error("fsconfig " + key + " " + value, e);
    }
  }

  /** For tests: forces the mount(2) path. */
  static void disableForTests(boolean disabled) {
    unsupported = disabled;
  }
}
