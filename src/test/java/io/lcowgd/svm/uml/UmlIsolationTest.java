package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The confinement of UML guests (dedicated uid, no capabilities, access to exactly the attached files) and attaching
 * more disks than UML's 16 ubd devices (hostfs + guest loop devices), on real guests.
 */
class UmlIsolationTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.ROOT);

  @TempDir Path tmp;
  private final List<UmlVm> started = new ArrayList<>();
  private Path dataRoot;

  private UmlBackend backend() throws IOException {
    // @TempDir is 0700: the guest uid sees its run directory in its own root tree, not through the host's path.
    return new UmlBackend(UML.image(), tmp.resolve("run"), UmlOptions.withTimeout(TIMEOUT));
  }

  @AfterEach
  void nothingLeft() throws Exception {
    for (UmlVm vm : started) {
      vm.terminate();
    }
    assertEquals(List.of(), Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(l -> l.contains(tmp.toString())).toList(), "host mounts left behind");
    assertTrue(!Files.exists(tmp.resolve("run")) || Files.list(tmp.resolve("run")).findAny().isEmpty(),
        "run directories left behind");
  }

  private UmlVm boot(UmlBackend b, String id) throws IOException {
    UmlVm vm = b.start(id);
    started.add(vm);
    return vm;
  }

  /** A layer as the layer store keeps it: {@code <root>/<id>/layer.vhd} in a 0700 directory, ext4 at offset 0. */
  private Path storeLayer(String id, String file, String content) throws Exception {
    if (dataRoot == null) {
      dataRoot = Files.createDirectory(tmp.resolve("root"));
      Files.setPosixFilePermissions(dataRoot, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path src = Files.createDirectories(tmp.resolve("src").resolve(id));
    Files.writeString(src.resolve(file), content);
    Files.writeString(src.resolve("common.txt"), "from " + id + "\n");
    Path dir = Files.createDirectory(dataRoot.resolve(id), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------")));
    Path img = dir.resolve("layer.vhd");
    UmlBackendTest.run(List.of("mke2fs", "-q", "-t", "ext4", "-O", "^has_journal", "-F", "-d", src.toString(),
        img.toString(), "2M"));
    Files.setPosixFilePermissions(img, PosixFilePermissions.fromString("rw-r--r--"));
    return img;
  }

  private static String sha256(Path f) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
  }

  private static String status(long pid, String key) throws IOException {
    return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith(key + ":"))
        .findFirst().orElseThrow().substring(key.length() + 1).strip();
  }

  /** Runs {@code cmd} as {@code uid} (no groups, no capabilities) in the guest's mount namespace; returns rc + output. */
  private static String asGuestUid(UmlVm vm, String... cmd) throws Exception {
    List<String> c = new ArrayList<>(List.of("nsenter", "--target", Long.toString(vm.pid()), "--mount", "--",
        "setpriv", "--reuid=" + vm.hostUid(), "--regid=" + vm.hostUid(), "--clear-groups", "--"));
    c.addAll(List.of(cmd));
    Process p = new ProcessBuilder(c).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return p.waitFor() + " " + out.strip();
  }

  @Test
  void guestRunsAsItsOwnUidAndReachesOnlyItsAttachedFiles() throws Exception {
    Path layerA = storeLayer("aaaa", "a.txt", "layer a\n");
    Path layerB = storeLayer("bbbb", "secret.txt", "layer b, not attached\n");
    Path sandbox = Files.createDirectory(dataRoot.resolve("ssss"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------"))).resolve("sandbox.vhdx");
    UmlBackendTest.run(List.of("mke2fs", "-q", "-t", "ext4", "-F", sandbox.toString(), "16M"));
    Files.setPosixFilePermissions(sandbox, PosixFilePermissions.fromString("rw-------"));
    String shaA = sha256(layerA);
    Object modeA = Files.getAttribute(layerA, "unix:mode");
    Object modeS = Files.getAttribute(sandbox, "unix:mode");
    // A loop mount of the host made before the boot: the guest's namespace must not pin it.
    Path pin = tmp.resolve("pin");
    Files.createDirectory(pin);
    Path pinImg = tmp.resolve("pin.img");
    UmlBackendTest.run(List.of("mke2fs", "-q", "-t", "ext4", "-F", pinImg.toString(), "2M"));
    UmlBackendTest.run(List.of("mount", "-o", "loop", pinImg.toString(), pin.toString()));
    UmlVm vm;
    UmlVm other;
    try {
      UmlBackend b = backend();
      vm = boot(b, "iso");
      other = boot(b, "iso2");
      assertFalse(Files.readString(Path.of("/proc/" + vm.pid() + "/mountinfo")).contains(pin.toString()),
          "host mounts are detached in the guest's mount namespace");
    } finally {
      UmlBackendTest.run(List.of("umount", pin.toString()));
    }
    assertEquals("", UmlBackendTest.run(List.of("losetup", "-j", pinImg.toString())).strip(),
        "the loop device of the host's mount is released although guests started while it was mounted");
    int uid = vm.hostUid();
    assertTrue(uid >= UidRange.DEFAULT.first() && uid <= UidRange.DEFAULT.last(), "uid " + uid);
    assertNotEquals(uid, other.hostUid(), "each guest has a uid of its own");
    for (long pid : ProcessGroups.members(vm.pid())) {
      assertEquals(uid + "\t" + uid + "\t" + uid + "\t" + uid, status(pid, "Uid"), "Uid of process " + pid);
      assertEquals(uid + "\t" + uid + "\t" + uid + "\t" + uid, status(pid, "Gid"), "Gid of process " + pid);
      assertEquals("", status(pid, "Groups"), "no supplementary groups");
      assertEquals("0000000000000000", status(pid, "CapEff"));
      assertEquals("0000000000000000", status(pid, "CapPrm"));
      assertEquals("0000000000000000", status(pid, "CapBnd"));
      assertEquals("1", status(pid, "NoNewPrivs"));
    }
    System.out.println("guest uid " + uid + ", second guest " + other.hostUid() + "; "
        + ProcessGroups.members(vm.pid()).size() + " processes checked");

    String a = vm.attach(layerA, new PayloadRange(0, Files.size(layerA)), AccessMode.READ_ONLY, "d1");
    String s = vm.attach(sandbox, new PayloadRange(0, Files.size(sandbox)), AccessMode.READ_WRITE, "d2");
    assertEquals("layer a\n", vm.run("cat " + a + "/a.txt"));
    vm.run("mkdir -p " + s + "/upper && echo written > " + s + "/upper/new.txt && sync");
    assertEquals(PosixAcl.READ, PosixAcl.entry(layerA, uid));
    assertEquals(PosixAcl.READ | PosixAcl.WRITE, PosixAcl.entry(sandbox, uid));
    assertEquals(-1, PosixAcl.entry(layerB, uid));
    assertEquals(-1, PosixAcl.entry(layerA, other.hostUid()), "the other guest got nothing");

    // The host uid itself, in the guest's namespace: the attached files through the run directory, no data root.
    assertTrue(asGuestUid(vm, "head", "-c", "0", tmp.resolve("run").resolve(vm.umid()).resolve("disks/1").toString())
        .startsWith("0"), "the guest uid reads its attached layer");
    for (Path p : List.of(layerB, layerA, sandbox, dataRoot)) {
      String r = asGuestUid(vm, "ls", "-l", p.toString());
      assertTrue(r.startsWith("2 ") && r.contains("No such file"), p + " in the guest's mount namespace: " + r);
    }
    String top = asGuestUid(vm, "ls", "-a", "/");
    System.out.println("the guest's root: " + top.replace('\n', ' '));
    assertTrue(asGuestUid(vm, "ls", GuestJail.HOST).contains("Permission denied"), "the host root stays root's");
    // ... and in the host's namespace: permission alone keeps it from other layers and sandboxes.
    for (Path p : List.of(layerB, layerA, sandbox)) {
      Process hp = new ProcessBuilder("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--", "head",
          "-c", "1", p.toString()).redirectErrorStream(true).start();
      String r = new String(hp.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(hp.waitFor() != 0 && r.contains("Permission denied"), p + " as the guest uid on the host: " + r);
    }
    // From inside the guest: hostfs is confined to the run directory's hostfs/, and '..' out of it meets the
    // host's permissions of the guest uid.
    vm.run("mkdir -p /tmp/h && mount -t hostfs none /tmp/h");
    assertEquals("", vm.run("ls -A /tmp/h").strip());
    vm.run("umount /tmp/h");
    // '..' out of the hostfs directory walks up to the root of the guest's own tree, which has no data root.
    for (String target : List.of(dataRoot.resolve("bbbb").toString(), dataRoot.toString())) {
      String via = "../".repeat(12) + target.substring(1);
      String out = vm.run("mkdir -p /tmp/y; if mount -t hostfs -o " + GuestShell.q(via) + " none /tmp/y 2>/tmp/err; then"
          + " ls /tmp/y 2>&1; for f in /tmp/y/layer.vhd /tmp/y/bbbb/layer.vhd; do [ -e $f ] && { head -c 1 $f"
          + " >/dev/null 2>&1 && echo READ $f || echo DENIED $f; }; done; umount /tmp/y; else cat /tmp/err; fi; true");
      System.out.println("hostfs " + via + ": " + out.strip().replace('\n', ' '));
      assertFalse(out.contains("READ") || out.contains("bbbb"), out);
    }
    String up = vm.run("mount -t hostfs -o ../../../../../../../.. none /tmp/y && ls -a /tmp/y && echo @"
        + " && ls -a /tmp/y" + GuestShell.q(tmp.toString()) + "; umount /tmp/y");
    System.out.println("hostfs '..' to the top: " + up.strip().replace('\n', ' '));
    assertEquals(". .. run", up.substring(up.indexOf('@') + 1).strip().replace('\n', ' '),
        "the test's directory seen from the guest holds only the run directory (no data root, no sources)");
    vm.detach(s);
    vm.detach(a);
    assertEquals(-1, PosixAcl.entry(layerA, uid), "ACL entry revoked at detach");
    assertEquals(-1, PosixAcl.entry(sandbox, uid));
    assertEquals(modeA, Files.getAttribute(layerA, "unix:mode"), "mode restored");
    assertEquals(modeS, Files.getAttribute(sandbox, "unix:mode"));
    assertEquals(shaA, sha256(layerA), "layer contents unchanged");
    UmlBackendTest.run(List.of("e2fsck", "-fn", sandbox.toString()));
    assertTrue(UmlBackendTest.run(List.of("debugfs", "-R", "cat /upper/new.txt", sandbox.toString()))
        .contains("written"));
    assertEquals(List.of(), vm.exposedFiles().stream().toList());

    // A file still attached when the guest is terminated loses its ACL entry too; the uid is free again.
    vm.attach(layerB, new PayloadRange(0, Files.size(layerB)), AccessMode.READ_ONLY, "d3");
    assertEquals(PosixAcl.READ, PosixAcl.entry(layerB, uid));
    vm.terminate();
    assertEquals(-1, PosixAcl.entry(layerB, uid));
    assertFalse(Files.exists(Path.of(GuestJail.LOCK_DIR_NAME, uid + "")) && lockedByUs(uid), "uid released");
  }

  private static boolean lockedByUs(int uid) throws IOException {
    try (var ch = java.nio.channels.FileChannel.open(Path.of(GuestJail.LOCK_DIR_NAME, uid + ""),
        java.nio.file.StandardOpenOption.WRITE)) {
      var l = ch.tryLock();
      if (l != null) {
        l.release();
        return false;
      }
      return true;
    } catch (java.nio.channels.OverlappingFileLockException e) {
      return true;
    }
  }

  @Test
  void fortyReadOnlyLayersAndASandboxInOneOverlay() throws Exception {
    int n = 40;
    List<Path> layers = new ArrayList<>();
    List<Long> offsets = new ArrayList<>();
    Random rnd = new Random(40);
    for (int i = 0; i < n; i++) {
      Path img = storeLayer(String.format("l%02d", i), "f" + i + ".txt", "file of layer " + i + "\n");
      long off = 0;
      if (i % 10 == 7) { // some at a payload offset, as in a VHDX
        off = 4096L * (1 + rnd.nextInt(64));
        byte[] inner = Files.readAllBytes(img);
        byte[] noise = new byte[(int) off];
        rnd.nextBytes(noise);
        try (OutputStream o = Files.newOutputStream(img)) {
          o.write(noise);
          o.write(inner);
          o.write(new byte[512]);
        }
      }
      layers.add(img);
      offsets.add(off);
    }
    Path sandbox = Files.createDirectory(dataRoot.resolve("sand"), PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rwx------"))).resolve("sandbox.vhdx");
    UmlBackendTest.run(List.of("mke2fs", "-q", "-t", "ext4", "-F", sandbox.toString(), "16M"));
    UmlVm vm = boot(backend(), "forty");
    long t0 = System.nanoTime();
    List<String> mps = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long size = Files.size(layers.get(i)) - offsets.get(i);
      mps.add(vm.attach(layers.get(i), new PayloadRange(offsets.get(i), size), AccessMode.READ_ONLY, "l" + i));
    }
    String sb = vm.attach(sandbox, new PayloadRange(0, Files.size(sandbox)), AccessMode.READ_WRITE, "sb");
    long attachMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(n + 1, vm.exposedFiles().size());
    assertEquals("file of layer 39\n", vm.run("cat /tmp/l39/f39.txt"));
    // Lowers topmost first: l39 .. l0.
    List<String> lowers = new ArrayList<>(mps);
    java.util.Collections.reverse(lowers);
    vm.mountUnion(UnionSpec.writable("/tmp/u", lowers, sb + "/upper", sb + "/work"));
    String ls = vm.run("ls /tmp/u");
    for (int i = 0; i < n; i++) {
      assertTrue(ls.contains("f" + i + ".txt"), "f" + i + " in the union: " + ls);
    }
    assertEquals("from l39\n", vm.run("cat /tmp/u/common.txt"), "the topmost layer wins");
    vm.run("echo changed > /tmp/u/f3.txt && rm /tmp/u/f20.txt && sync");
    assertEquals("changed\n", vm.run("cat /tmp/u/f3.txt"));
    String loops = vm.run("losetup -a | wc -l").strip();
    System.out.println("40 layers + sandbox attached in " + attachMs + " ms (" + loops + " guest loop devices)");
    vm.unmountUnion("/tmp/u");
    for (String mp : mps) {
      vm.detach(mp);
    }
    vm.detach(sb);
    assertEquals("0", vm.run("losetup -a | wc -l").strip(), "guest loop devices released");
    assertEquals("", vm.run("ls /tmp/.hostfs").strip(), "hostfs directory empty again");
    assertEquals(List.of(), vm.exposedFiles().stream().toList());
    assertEquals(List.of(), Files.readAllLines(Path.of("/proc/" + vm.pid() + "/mountinfo")).stream()
        .map(l -> l.split(" ")[4]).filter(m -> m.contains(vm.umid() + "/disks/") || m.contains(vm.umid() + "/hostfs/"))
        .toList(),
        "no bind mounts left in the guest's namespace");
    for (Path l : layers) {
      assertEquals(-1, PosixAcl.entry(l, vm.hostUid()));
    }
    UmlBackendTest.run(List.of("e2fsck", "-fn", sandbox.toString()));
    assertTrue(UmlBackendTest.run(List.of("debugfs", "-R", "ls -l /upper", sandbox.toString())).contains("f20.txt"));
  }
}
