package io.lcowgd.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.testing.E2fsck;
import io.lcowgd.testing.HostTools;
import io.lcowgd.vhdx.Vhdx;
import io.lcowgd.vhdx.VhdxReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxFactoryTest {
  private static final long GIB = 1L << 30;

  @TempDir static Path cache;
  @TempDir Path dir;

  @BeforeAll
  static void needsRoot() {
    assumeTrue("root".equals(System.getProperty("user.name")), "loop devices and mounts need root");
  }

  @Test
  void cloneIsSparseMountsReadWriteAndStaysValid() throws Exception {
    SandboxFactory f = new SandboxFactory(cache);
    Path sb = dir.resolve("sandbox.vhdx");
    CloneMethod how = f.create(sb, 20);
    assertEquals(Files.size(f.template(20)), Files.size(sb));
    long allocated = HostTools.allocatedBytes(sb);
    assertTrue(allocated < 1 << 20, "clone allocates " + allocated + " bytes (" + how + ")");
    PayloadRange range = Vhdx.payloadRange(sb);
    assertEquals(20 * GIB, range.length());
    HostTools.check("qemu-img", "check", "-f", "vhdx", sb.toString());

    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    try (LoopDevice loop = LoopDevice.attach(sb, range.offset(), range.length(), false)) {
      HostTools.check("mount", "-t", "ext4", "-o", SandboxFactory.HOST_MOUNT_OPTIONS, loop.device, mnt.toString());
      try {
        Files.createDirectories(mnt.resolve("upper/etc"));
        Files.writeString(mnt.resolve("upper/etc/hello.txt"), "hello from the sandbox\n");
        byte[] big = new byte[3 << 20];
        new java.util.Random(5).nextBytes(big);
        Files.write(mnt.resolve("upper/big.bin"), big);
        Files.createSymbolicLink(mnt.resolve("upper/link"), Path.of("etc/hello.txt"));
      } finally {
        HostTools.check("umount", mnt.toString());
      }
    }
    try (LoopDevice ro = LoopDevice.attach(sb, range.offset(), range.length(), true)) {
      E2fsck.assertClean(Path.of(ro.device));
      String ls = HostTools.check("debugfs", "-R", "ls -l /upper/etc", ro.device);
      assertTrue(ls.contains("hello.txt"), ls);
    }
    HostTools.check("qemu-img", "check", "-f", "vhdx", sb.toString());
    // Our own ext4 reader sees the same files through our VHDX reader, detected from the bytes.
    assertEquals(io.lcowgd.image.ContainerType.VHDX, io.lcowgd.image.DiskImages.detect(sb));
    try (io.lcowgd.ext4.Ext4Reader r = io.lcowgd.ext4.Ext4Reader.open(io.lcowgd.image.DiskImages.open(sb))) {
      io.lcowgd.ext4.Ext4Inode hello = r.lookup("/upper/etc/hello.txt").orElseThrow();
      assertEquals("hello from the sandbox\n",
          new String(r.readAll(hello, 1 << 10), java.nio.charset.StandardCharsets.UTF_8));
      io.lcowgd.ext4.Ext4Inode bigInode = r.lookup("/upper/big.bin").orElseThrow();
      java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
      r.copyData(bigInode, got);
      byte[] want = new byte[3 << 20];
      new java.util.Random(5).nextBytes(want);
      org.junit.jupiter.api.Assertions.assertArrayEquals(want, got.toByteArray());
      assertEquals("etc/hello.txt", new String(r.readLink(r.lookup("/upper/link").orElseThrow()),
          java.nio.charset.StandardCharsets.UTF_8));
      java.io.ByteArrayOutputStream tar = new java.io.ByteArrayOutputStream();
      io.lcowgd.convert.Ext4ToTar.export(r, io.lcowgd.convert.ExportMode.SANDBOX, tar);
      List<String> names = new ArrayList<>();
      try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
          new java.io.ByteArrayInputStream(tar.toByteArray()))) {
        for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
          names.add(e.getName());
        }
      }
      assertEquals(List.of("big.bin", "etc/", "etc/hello.txt", "link"), names);
    }
    // 3 MiB of file data plus a few metadata blocks: still nowhere near the virtual size
    assertTrue(HostTools.allocatedBytes(sb) < 8 << 20, "after writes: " + HostTools.allocatedBytes(sb));
  }

  @Test
  void smallSandboxQemuRawEqualsLoopDeviceAndOurReader() throws Exception {
    Path sb = dir.resolve("small.vhdx");
    PayloadRange range = SandboxImage.create(sb, 128L << 20);
    Path mnt = Files.createDirectory(dir.resolve("mnt"));
    Path loopCopy = dir.resolve("loop.raw");
    try (LoopDevice loop = LoopDevice.attach(sb, range.offset(), range.length(), false)) {
      HostTools.check("mount", "-o", SandboxFactory.HOST_MOUNT_OPTIONS, loop.device, mnt.toString());
      try {
        Files.writeString(mnt.resolve("hello.txt"), "through three readers\n");
        Files.createDirectories(mnt.resolve("upper/work"));
      } finally {
        HostTools.check("umount", mnt.toString());
      }
      Files.copy(Path.of(loop.device), loopCopy);
    }
    assertEquals(range.length(), Files.size(loopCopy));
    Path qemuRaw = dir.resolve("qemu.raw");
    HostTools.check("qemu-img", "convert", "-f", "vhdx", "-O", "raw", sb.toString(), qemuRaw.toString());
    Path ours = dir.resolve("ours.raw");
    try (VhdxReader r = VhdxReader.open(sb);
        FileChannel out = FileChannel.open(ours, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1 << 20);
      for (long at = 0; at < r.size(); at += b.capacity()) {
        r.readFully(at, b.clear());
        out.write(b.flip());
      }
    }
    assertEquals(-1, Files.mismatch(loopCopy, qemuRaw), "qemu-img convert output differs from the loop device");
    assertEquals(-1, Files.mismatch(loopCopy, ours), "VhdxReader output differs from the loop device");
    String cat = HostTools.check("debugfs", "-R", "cat /hello.txt", ours.toString());
    assertTrue(cat.contains("through three readers"), cat);
    E2fsck.assertClean(ours);
  }

  @Test
  void templateHasTheOriginalsExt4Options() throws Exception {
    Path t = new SandboxFactory(cache).template(20);
    PayloadRange range = Vhdx.payloadRange(t);
    String sb = HostTools.check("dumpe2fs", "-h", t + "?offset=" + range.offset());
    String features = sb.lines().filter(l -> l.startsWith("Filesystem features:")).findFirst().orElseThrow();
    assertTrue(features.contains("sparse_super2"), features);
    assertTrue(features.contains("metadata_csum"), features);
    assertTrue(!features.contains("has_journal") && !features.contains("resize_inode"), features);
    assertTrue(sb.contains("Block count:              " + (20 * GIB / 4096)), sb);
    String groups = HostTools.check("dumpe2fs", t + "?offset=" + range.offset());
    long notZeroed = groups.lines().filter(l -> l.matches("Group [0-9]+: .*") && !l.contains("ITABLE_ZEROED")).count();
    assertEquals(0, notZeroed, "every inode table must be marked zeroed");
    assertEquals(20 * GIB / 4096 / 32768, groups.lines().filter(l -> l.matches("Group [0-9]+: .*")).count());
    assertTrue(HostTools.allocatedBytes(t) < 1 << 20, "template allocates " + HostTools.allocatedBytes(t));
  }

  @Test
  void concurrentCallersMakeOneTemplate() throws Exception {
    Path shared = Files.createDirectory(dir.resolve("cache"));
    Path viaLink = Files.createSymbolicLink(dir.resolve("cache-link"), shared);
    int threads = 4;
    CyclicBarrier start = new CyclicBarrier(threads);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Object>> keys = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        Path cacheDir = i % 2 == 0 ? shared : viaLink;
        keys.add(pool.submit(() -> {
          SandboxFactory f = new SandboxFactory(cacheDir); // separate instances, two paths: locks still shared
          start.await();
          Path t = f.template(21);
          return Files.readAttributes(t, BasicFileAttributes.class).fileKey();
        }));
      }
      Set<Object> distinct = new HashSet<>();
      for (Future<Object> k : keys) {
        distinct.add(k.get());
      }
      assertEquals(1, distinct.size(), "templates made: " + distinct);
    } finally {
      pool.shutdownNow();
    }
    try (Stream<Path> s = Files.list(shared)) {
      List<String> names = s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".lock")).toList();
      assertEquals(List.of("sandbox-21g.vhdx"), names);
    }
  }

  @Test
  void staleTemporariesFromACrashAreRemoved() throws Exception {
    Path c = dir.resolve("cache");
    Files.createDirectories(c);
    Path stale = c.resolve(".scratch.vhdx.tmp-" + UUID.randomUUID());
    Files.write(stale, new byte[] {1, 2, 3});
    SandboxFactory f = new SandboxFactory(c);
    Path scratch = dir.resolve("scratch").resolve("svm1.vhdx");
    Files.createDirectories(scratch.getParent());
    f.createScratch(scratch);
    assertTrue(Files.notExists(stale));
    assertEquals(c.resolve("scratch.vhdx"), f.scratchTemplate());
    assertEquals(20 * GIB, Vhdx.payloadRange(scratch).length());
    HostTools.check("qemu-img", "check", "-f", "vhdx", scratch.toString());
  }

  @Test
  void clonesGetTheirOwnDiskIdentity() throws Exception {
    SandboxFactory f = new SandboxFactory(cache);
    Path a = dir.resolve("a.vhdx");
    Path b = dir.resolve("b.vhdx");
    f.create(a);
    f.create(b);
    Set<UUID> ids = new HashSet<>();
    for (Path p : List.of(f.template(20), a, b)) {
      try (VhdxReader r = VhdxReader.open(p)) {
        ids.add(r.page83());
      }
    }
    assertEquals(3, ids.size());
    HostTools.check("qemu-img", "check", "-f", "vhdx", a.toString());
  }

  @Test
  void refusesSmallSizesAndExistingDestinations() throws Exception {
    SandboxFactory f = new SandboxFactory(cache);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> f.create(dir.resolve("x.vhdx"), 19));
    assertTrue(e.getMessage().contains("minimum of 20"), e.getMessage());
    Path existing = dir.resolve("exists.vhdx");
    Files.writeString(existing, "keep me");
    assertThrows(FileAlreadyExistsException.class, () -> f.create(existing));
    assertEquals("keep me", Files.readString(existing));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(existing), s.toList(), "no temporaries left behind");
    }
  }
}
