package io.lcowgd.ext4;

import io.lcowgd.testing.DeviceNodes;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.LoopMount;
import io.lcowgd.testing.Xattrs;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Test images made the way a Linux user makes them: {@code mke2fs -t ext4} (default features unless options are
 * given), then populated by the kernel through a loop mount.
 */
public final class KernelImages {
  private KernelImages() {}

  /** Populates a mounted filesystem. */
  public interface Populator {
    void populate(Path root) throws IOException;
  }

  /** Body run while an image is mounted. */
  public interface MountedBody<T> {
    T run(Path mountPoint) throws IOException;
  }

  /** Creates {@code img} of {@code sizeMiB} with mke2fs and the given extra options, then populates it. */
  public static Path build(Path img, int sizeMiB, List<String> mkfsOptions, Populator pop) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("mke2fs", "-q", "-F", "-t", "ext4"));
    cmd.addAll(mkfsOptions);
    cmd.add(img.toString());
    cmd.add(sizeMiB + "M");
    HostTools.check(cmd.toArray(String[]::new));
    withMount(img, false, mp -> {
      pop.populate(mp);
      return null;
    });
    return img;
  }

  /** Loop-mounts {@code img} (read-only or read-write) in a fresh directory, runs {@code body}, unmounts. */
  public static <T> T withMount(Path img, boolean readOnly, MountedBody<T> body) throws IOException {
    if (readOnly) {
      try (LoopMount m = LoopMount.ext4(img)) {
        return body.run(m.root());
      }
    }
    Path mp = Files.createTempDirectory(img.getParent(), "mnt");
    HostTools.check("mount", "-t", "ext4", "-o", "loop", img.toString(), mp.toString());
    try {
      return body.run(mp);
    } finally {
      HostTools.check("umount", mp.toString());
      Files.delete(mp);
    }
  }

  /** The rich fixture: every kind of inode and layout the reader must handle, written by the kernel. */
  public static void rich(Path r, long seed) throws IOException {
    Random rnd = new Random(seed);
    Path d = Files.createDirectories(r.resolve("a/b/c"));
    for (int size : new int[] {0, 1, 59, 60, 100, 1023, 1024, 1025, 4095, 4096, 4097, 200_000, 3_000_000}) {
      byte[] b = new byte[size];
      rnd.nextBytes(b);
      Files.write(d.resolve("f" + size), b);
    }
    Path big = Files.createDirectory(r.resolve("big"));
    for (int i = 0; i < 2500; i++) {
      Files.writeString(big.resolve("entry-" + i + "-" + "x".repeat(i % 40)), "v" + i);
    }
    // Fragmented: one block written every other block gives one extent each (deep extent tree).
    try (RandomAccessFile f = new RandomAccessFile(r.resolve("frag").toFile(), "rw")) {
      byte[] blk = new byte[4096];
      for (int i = 0; i < 3000; i++) {
        rnd.nextBytes(blk);
        f.seek((long) i * 2 * 4096);
        f.write(blk, 0, 4096);
      }
    }
    try (RandomAccessFile f = new RandomAccessFile(r.resolve("sparse").toFile(), "rw")) {
      f.write("head".getBytes(StandardCharsets.UTF_8));
      f.seek(50L << 20);
      f.write("middle".getBytes(StandardCharsets.UTF_8));
      f.setLength(100L << 20);
    }
    HostTools.check("fallocate", "-l", "1M", r.resolve("falloc").toString());
    Files.writeString(r.resolve("falloc-keep"), "data before preallocation");
    HostTools.check("fallocate", "-n", "-o", "4096", "-l", "1M", r.resolve("falloc-keep").toString());
    Files.writeString(r.resolve("hl1"), "hard linked content");
    Files.createLink(r.resolve("a/hl2"), r.resolve("hl1"));
    Files.createLink(r.resolve("a/b/hl3"), r.resolve("hl1"));
    Files.createSymbolicLink(r.resolve("s-short"), Path.of("a/b/c/f100"));
    Files.createSymbolicLink(r.resolve("s-long"), Path.of("a/" + "long-component/".repeat(14) + "end"));
    Files.createSymbolicLink(r.resolve("s-dangling"), Path.of("/nonexistent/target"));
    Path x = Files.writeString(r.resolve("xattrs"), "with xattrs");
    Xattrs.set(x, "user.small", "v".getBytes(StandardCharsets.UTF_8));
    byte[] bigv = new byte[900];
    rnd.nextBytes(bigv);
    Xattrs.set(x, "user.big", bigv);
    Xattrs.set(x, "security.capability", new byte[] {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0});
    Path opq = Files.createDirectories(r.resolve("opaque/inner"));
    Xattrs.set(opq.getParent(), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));
    DeviceNodes.mknod(r.resolve("opaque/gone"), Ext4Inode.S_IFCHR | 0, 0, 0);
    DeviceNodes.mknod(r.resolve("null"), Ext4Inode.S_IFCHR | 0666, 1, 3);
    DeviceNodes.mknod(r.resolve("loop9"), Ext4Inode.S_IFBLK | 0660, 7, 300);
    DeviceNodes.mknod(r.resolve("fifo"), Ext4Inode.S_IFIFO | 0644, 0, 0);
    Path own = Files.writeString(r.resolve("owned"), "owned");
    HostTools.check("chown", "100000:1234", own.toString());
    Path suid = Files.writeString(r.resolve("suid"), "#!/bin/sh\n");
    HostTools.check("chmod", "4755", suid.toString());
    Path sticky = Files.createDirectory(r.resolve("sticky"));
    HostTools.check("chmod", "1777", sticky.toString());
    Files.setPosixFilePermissions(Files.writeString(r.resolve("private"), "p"),
        PosixFilePermissions.fromString("rw-------"));
    Files.setLastModifiedTime(r.resolve("a/b/c/f1"), FileTime.from(Instant.parse("2040-05-06T07:08:09.123456789Z")));
    Files.setLastModifiedTime(r.resolve("a/b/c/f59"), FileTime.from(Instant.parse("1960-01-02T03:04:05.5Z")));
    Files.writeString(r.resolve("naïve-ü-名前"), "utf8 name");
    Files.writeString(r.resolve("n".repeat(255)), "longest name");
  }
}
