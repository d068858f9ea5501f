package io.lcowgd.sandbox;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import io.lcowgd.posix.LibC;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Copies a file in time proportional to its <em>allocated</em> data, never its apparent size: a reflink (FICLONE)
 * where the filesystem supports it, else a sparse copy that visits only the data extents (SEEK_DATA/SEEK_HOLE) and
 * leaves holes as holes. Linux only.
 */
public final class FileCloner {
  private static final int COPY_BUFFER = 1 << 20;

  private FileCloner() {}

  /**
   * Copies {@code src} to {@code dst}, which must not exist. On failure {@code dst} is removed. Returns the method
   * used. Does not flush: a caller that needs durability forces {@code dst} itself (once, after its own edits).
   */
  public static CloneMethod cloneFile(Path src, Path dst) throws IOException {
    LibC c = LibC.INSTANCE;
    int in = open(src, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
    try {
      int out;
      try {
        out = c.open(dst.toString(), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0644);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == 17) {
          throw new FileAlreadyExistsException(dst.toString());
        }
        throw io("create " + dst, e);
      }
      boolean ok = false;
      try {
        CloneMethod m = copy(c, in, src, out, dst);
        ok = true;
        return m;
      } catch (LastErrorException e) {
        throw io("copy " + src + " to " + dst, e);
      } finally {
        close(out);
        if (!ok) {
          Files.deleteIfExists(dst);
        }
      }
    } finally {
      close(in);
    }
  }

  private static CloneMethod copy(LibC c, int in, Path src, int out, Path dst) {
    try {
      c.ioctl(out, new NativeLong(LibC.FICLONE), in);
      return CloneMethod.REFLINK;
    } catch (LastErrorException e) {
      // EOPNOTSUPP, EXDEV, EINVAL, ENOTTY...: no reflink here; fall back to the sparse copy.
    }
    long size = c.lseek(in, 0, LibC.SEEK_END);
    c.ftruncate(out, size);
    try (Memory buf = new Memory(COPY_BUFFER)) {
      long pos = 0;
      while (pos < size) {
        long data;
        try {
          data = c.lseek(in, pos, LibC.SEEK_DATA);
        } catch (LastErrorException e) {
          if (e.getErrorCode() == LibC.ENXIO) {
            break; // only a hole remains
          }
          throw e;
        }
        long hole = c.lseek(in, data, LibC.SEEK_HOLE);
        copyRange(c, in, out, buf, data, hole);
        pos = hole;
      }
    }
    return CloneMethod.SPARSE_COPY;
  }

  private static void copyRange(LibC c, int in, int out, Memory buf, long from, long to) {
    long pos = from;
    while (pos < to) {
      long want = Math.min(buf.size(), to - pos);
      long n = c.pread(in, buf, new NativeLong(want), pos).longValue();
      if (n <= 0) {
        break; // the file shrank under us; the destination keeps its hole
      }
      long w = 0;
      while (w < n) {
        w += c.pwrite(out, buf.share(w), new NativeLong(n - w), pos + w).longValue();
      }
      pos += n;
    }
  }

  private static int open(Path p, int flags, int mode) throws IOException {
    try {
      return LibC.INSTANCE.open(p.toString(), flags, mode);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == LibC.ENOENT) {
        throw new java.nio.file.NoSuchFileException(p.toString());
      }
      throw io("open " + p, e);
    }
  }

  private static void close(int fd) throws IOException {
    try {
      LibC.INSTANCE.close(fd);
    } catch (LastErrorException e) {
      throw io("close", e);
    }
  }

  private static IOException io(String what, LastErrorException e) {
    return new IOException(what + ": errno " + e.getErrorCode(), e);
  }
}
