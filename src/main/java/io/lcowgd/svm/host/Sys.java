package io.lcowgd.svm.host;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import io.lcowgd.posix.LibC;
import java.io.IOException;

/** Thin wrappers over {@link LibC} that turn errno into {@link IOException}s naming the call and its arguments. */
final class Sys {
  private Sys() {}

  /** An {@link IOException} that keeps the errno of the failed call. */
  static final class ErrnoException extends IOException {
    final int errno;

    ErrnoException(String message, int errno, Throwable cause) {
      super(message, cause);
      this.errno = errno;
    }
  }

  static ErrnoException error(String what, LastErrorException e) {
    int errno = e.getErrorCode();
    String text;
    try {
      text = LibC.INSTANCE.strerror(errno);
    } catch (RuntimeException | UnsatisfiedLinkError x) {
      text = "errno " + errno;
    }
    return new ErrnoException(what + ": " + text + " (errno " + errno + ")", errno, e);
  }

  static int open(String path, int flags) throws ErrnoException {
    try {
      return LibC.INSTANCE.open(path, flags | LibC.O_CLOEXEC, 0);
    } catch (LastErrorException e) {
      throw error("open " + path, e);
    }
  }

  static void close(int fd) {
    try {
      LibC.INSTANCE.close(fd);
    } catch (LastErrorException e) {
      // close(2) errors leave nothing to undo; the fd is released either way.
    }
  }

  static void mount(String source, String target, String type, long flags, String data) throws ErrnoException {
    try {
      LibC.INSTANCE.mount(source, target, type, new NativeLong(flags), data);
    } catch (LastErrorException e) {
      throw error("mount -t " + type + " " + source + " " + target + " (flags 0x" + Long.toHexString(flags)
          + (data == null ? "" : ", " + data.length() + " bytes of options") + ")", e);
    }
  }

  /**
   * mount(2) with relative paths in {@code data} resolved from {@code cwd}: runs on a fresh thread that unshares its
   * filesystem context ({@code CLONE_FS}) and changes directory, so no other thread's working directory changes.
   */
  static void mountIn(String cwd, String source, String target, String type, long flags, String data)
      throws IOException {
    IOException[] failure = new IOException[1];
    Thread t = new Thread(() -> {
      try {
        LibC.INSTANCE.unshare(LibC.CLONE_FS);
        LibC.INSTANCE.chdir(cwd);
      } catch (LastErrorException e) {
        failure[0] = error("unshare/chdir " + cwd + " for mount " + target, e);
        return;
      }
      try {
        mount(source, target, type, flags, data);
      } catch (IOException e) {
        failure[0] = e;
      }
    }, "lcow-mount");
    t.start();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while mounting " + target);
    }
    if (failure[0] != null) {
      throw failure[0];
    }
  }

  static void umount(String target, int flags) throws ErrnoException {
    try {
      LibC.INSTANCE.umount2(target, flags);
    } catch (LastErrorException e) {
      throw error("umount " + target, e);
    }
  }

  static void syncfs(String path) throws ErrnoException {
    int fd = open(path, LibC.O_RDONLY | LibC.O_DIRECTORY);
    try {
      LibC.INSTANCE.syncfs(fd);
    } catch (LastErrorException e) {
      throw error("syncfs " + path, e);
    } finally {
      close(fd);
    }
  }
}
