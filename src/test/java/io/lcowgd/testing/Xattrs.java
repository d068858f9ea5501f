package io.lcowgd.testing;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;

/** Reads extended attributes of a path without following symlinks ({@code llistxattr}/{@code lgetxattr} via JNA). */
public final class Xattrs {
  private Xattrs() {}

  /** libc functions, bound with JNA direct mapping (much cheaper per call than interface mapping). */
  static final class LibC {
    static {
      Native.register(LibC.class, "c");
    }

    private LibC() {}

    static native long llistxattr(String path, byte[] list, long size);

    static native long lgetxattr(String path, String name, byte[] value, long size);

    static native int lsetxattr(String path, String name, byte[] value, long size, int flags);

    static native int statx(int dirfd, String path, int flags, int mask, byte[] buf);
  }

  /** Sets one extended attribute on {@code p} (not following symlinks). */
  public static void set(Path p, String name, byte[] value) throws IOException {
    if (LibC.lsetxattr(p.toString(), name, value, value.length, 0) != 0) {
      throw new IOException("lsetxattr " + name + " failed on " + p + ": errno " + Native.getLastError());
    }
  }

  /** The mtime of {@code p} (not following symlinks) with full nanoseconds, as "seconds.nanoseconds". */
  public static String mtimeNanos(Path p) throws IOException {
    byte[] buf = new byte[256];
    // AT_FDCWD, AT_SYMLINK_NOFOLLOW, STATX_MTIME; struct statx: stx_mtime at 0x70 {s64 tv_sec; u32 tv_nsec}.
    if (LibC.statx(-100, p.toString(), 0x100, 0x40, buf) != 0) {
      throw new IOException("statx failed on " + p + ": errno " + Native.getLastError());
    }
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.nativeOrder());
    return b.getLong(0x70) + "." + String.format("%09d", b.getInt(0x78));
  }

  /** All extended attributes of {@code p} by name. */
  public static SortedMap<String, byte[]> read(Path p) throws IOException {
    SortedMap<String, byte[]> out = new TreeMap<>();
    String path = p.toString();
    long n = LibC.llistxattr(path, null, 0);
    if (n < 0) {
      throw new IOException("llistxattr failed on " + p + ": errno " + Native.getLastError());
    }
    if (n == 0) {
      return out;
    }
    byte[] list = new byte[(int) n];
    n = LibC.llistxattr(path, list, list.length);
    int start = 0;
    for (int i = 0; i < n; i++) {
      if (list[i] == 0) {
        String name = new String(list, start, i - start, StandardCharsets.UTF_8);
        start = i + 1;
        long vs = LibC.lgetxattr(path, name, null, 0);
        if (vs < 0) {
          throw new IOException("lgetxattr " + name + " failed on " + p + ": errno " + Native.getLastError());
        }
        byte[] v = new byte[(int) vs];
        if (vs > 0) {
          LibC.lgetxattr(path, name, v, v.length);
        }
        out.put(name, v);
      }
    }
    return out;
  }
}
