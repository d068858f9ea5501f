package io.lcowgd.ext4;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** libc calls the JDK lacks (any-namespace xattrs, mknod) and a process runner, for building test images. */
public final class Posix {
  private Posix() {}

  public interface LibC extends Library {
    int lsetxattr(String path, String name, byte[] value, long size, int flags);

    long lgetxattr(String path, String name, byte[] value, long size);

    long llistxattr(String path, byte[] list, long size);

    int mknod(String path, int mode, long dev);
  }

  private static final LibC C = Native.load("c", LibC.class);

  public static void setXattr(Path p, String name, byte[] value) throws IOException {
    if (C.lsetxattr(p.toString(), name, value, value.length, 0) != 0) {
      throw new IOException("lsetxattr " + name + " on " + p + ": errno " + Native.getLastError());
    }
  }

  public static List<String> listXattrs(Path p) throws IOException {
    byte[] buf = new byte[65536];
    long n = C.llistxattr(p.toString(), buf, buf.length);
    if (n < 0) {
      throw new IOException("llistxattr " + p + ": errno " + Native.getLastError());
    }
    List<String> out = new ArrayList<>();
    int s = 0;
    for (int i = 0; i < n; i++) {
      if (buf[i] == 0) {
        out.add(new String(buf, s, i - s, StandardCharsets.UTF_8));
        s = i + 1;
      }
    }
    return out;
  }

  public static byte[] getXattr(Path p, String name) throws IOException {
    byte[] buf = new byte[65536];
    long n = C.lgetxattr(p.toString(), name, buf, buf.length);
    if (n < 0) {
      throw new IOException("lgetxattr " + name + " on " + p + ": errno " + Native.getLastError());
    }
    return Arrays.copyOf(buf, (int) n);
  }

  /** Creates a device or FIFO node; {@code mode} includes the type bits. */
  public static void mknod(Path p, int mode, int major, int minor) throws IOException {
    long dev = ((long) (major & 0xfff) << 8) | (minor & 0xff) | ((long) (minor & ~0xff) << 12);
    if (C.mknod(p.toString(), mode, dev) != 0) {
      throw new IOException("mknod " + p + ": errno " + Native.getLastError());
    }
  }

  /** Runs a command, failing with its output when it exits non-zero or takes over two minutes. */
  public static String run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    try {
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timeout: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + s);
    }
    return s;
  }

  /** Runs a command with {@code input} on its standard input and returns its standard output. */
  public static String runWithInput(byte[] input, String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Thread feeder = new Thread(() -> {
      try (var o = p.getOutputStream()) {
        o.write(input);
      } catch (IOException e) {
        // the process exited early; its exit status reports the problem
      }
    });
    feeder.start();
    byte[] out = p.getInputStream().readAllBytes();
    try {
      feeder.join();
      if (p.waitFor() != 0) {
        throw new IOException(String.join(" ", cmd) + " exited " + p.exitValue());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }
}
