package io.lcowgd.sandbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.testing.HostTools;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileClonerTest {
  @TempDir Path dir;

  @Test
  void copiesDataExtentsAndKeepsHoles() throws Exception {
    Path src = dir.resolve("src");
    long size = 64L << 20;
    Random rnd = new Random(11);
    try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long at : new long[] {0, 4096 * 3, 5L << 20, (33L << 20) + 100, size - 4096}) {
        byte[] b = new byte[1 + rnd.nextInt(300_000)];
        rnd.nextBytes(b);
        b = java.util.Arrays.copyOf(b, (int) Math.min(b.length, size - at));
        ch.write(ByteBuffer.wrap(b), at);
      }
    }
    Path dst = dir.resolve("dst");
    CloneMethod how = FileCloner.cloneFile(src, dst);
    assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(dst));
    long srcAlloc = HostTools.allocatedBytes(src);
    long dstAlloc = HostTools.allocatedBytes(dst);
    assertTrue(dstAlloc <= srcAlloc + 64 * 1024, how + ": source " + srcAlloc + " B, clone " + dstAlloc + " B");
    assertTrue(dstAlloc < 4 << 20, "clone of a 64 MiB sparse file allocates " + dstAlloc);
  }

  @Test
  void reflinksOnXfs() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mkfs.xfs")) || Files.isExecutable(Path.of("/sbin/mkfs.xfs")),
        "mkfs.xfs (xfsprogs) is not installed");
    assumeTrue("root".equals(System.getProperty("user.name")), "loop devices and mounts need root");
    Path img = dir.resolve("xfs.img");
    new java.io.RandomAccessFile(img.toFile(), "rw").setLength(1L << 30);
    HostTools.check("mkfs.xfs", "-q", "-m", "reflink=1", img.toString());
    Path mnt = Files.createDirectory(dir.resolve("xfs"));
    try (LoopDevice loop = LoopDevice.attach(img, 0, 1L << 30, false)) {
      HostTools.check("mount", "-t", "xfs", loop.device, mnt.toString());
      try {
        SandboxFactory f = new SandboxFactory(mnt.resolve("cache"));
        Path sb = mnt.resolve("sandbox.vhdx");
        assertEquals(CloneMethod.REFLINK, f.create(sb));
        long firstDifference = Files.mismatch(f.template(20), sb);
        assertTrue(firstDifference >= 64 * 1024 && firstDifference < 68 * 1024,
            "the first difference must be in header 1 (new identity), not at " + firstDifference);
        HostTools.check("qemu-img", "check", "-f", "vhdx", sb.toString());
        assertEquals(20L << 30, io.lcowgd.vhdx.Vhdx.payloadRange(sb).length());
        Path plain = mnt.resolve("plain");
        Files.write(plain, new byte[] {1, 2, 3});
        assertEquals(CloneMethod.REFLINK, FileCloner.cloneFile(plain, mnt.resolve("plain2")));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(mnt.resolve("plain2")));
      } finally {
        HostTools.check("umount", mnt.toString());
      }
    }
  }

  @Test
  void copiesAnAllHoleFileAndRefusesToOverwrite() throws Exception {
    Path src = dir.resolve("holes");
    try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(0), 0);
    }
    new java.io.RandomAccessFile(src.toFile(), "rw").setLength(1L << 30);
    Path dst = dir.resolve("copy");
    FileCloner.cloneFile(src, dst);
    assertEquals(1L << 30, Files.size(dst));
    assertEquals(0, HostTools.allocatedBytes(dst));
    assertThrows(FileAlreadyExistsException.class, () -> FileCloner.cloneFile(src, dst));
    assertThrows(NoSuchFileException.class, () -> FileCloner.cloneFile(dir.resolve("missing"), dir.resolve("x")));
  }
}
