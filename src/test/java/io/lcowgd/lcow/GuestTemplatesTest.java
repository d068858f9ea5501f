package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.sandbox.Mke2fsSpec;
import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.sandbox.SandboxImage;
import io.lcowgd.svm.PoolMode;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.svm.uml.UmlOptions;
import io.lcowgd.svm.uml.UvmImage;
import io.lcowgd.testing.HostTools;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import io.lcowgd.vhdx.Vhdx;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code lcow.svm=uml}: sandbox and scratch templates formatted by a real UML guest's mke2fs equal the host-made
 * ones (dumpe2fs of every group, minus UUIDs, times and checksums; e2fsck -fn clean; still sparse), and the driver
 * gives every guest a scratch disk under {@code <root>/scratch} that is gone after the VM (safe) or Cleanup (global).
 */
class GuestTemplatesTest {
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.UML_ONLY);
  @TempDir Path tmp;
  private LcowDriver driver;

  @AfterEach
  void close() throws Exception {
    if (driver != null) {
      driver.close();
    }
  }

  @Test
  void templatesFormattedInTheGuestMatchTheHostLayout() throws Exception {
    UvmImage image = UML.image();
    GuestFormatter formatter = new GuestFormatter(new ServiceVmPool(new UmlBackend(image, tmp.resolve("run"),
        UmlOptions.withTimeout(Duration.ofSeconds(60))), PoolMode.SAFE, Duration.ofSeconds(60)));
    try {
      SandboxFactory guest = new SandboxFactory(tmp.resolve("guest-cache"), formatter);
      SandboxFactory host = new SandboxFactory(tmp.resolve("host-cache"));
      long before = GuestFormatter.formatted();
      long t0 = System.nanoTime();
      Path g = guest.template(20);
      long guestMs = (System.nanoTime() - t0) / 1_000_000;
      t0 = System.nanoTime();
      Path h = host.template(20);
      long hostMs = (System.nanoTime() - t0) / 1_000_000;
      Path gs = guest.scratchTemplate();
      assertEquals(before + 2, GuestFormatter.formatted(), "both templates were formatted in a guest");
      System.out.println("20 GB sandbox template: guest mke2fs (boot + format + terminate) " + guestMs
          + " ms, host mke2fs " + hostMs + " ms; allocated " + HostTools.allocatedBytes(g) / 1024 + " KiB (guest) vs "
          + HostTools.allocatedBytes(h) / 1024 + " KiB (host)");
      for (Path t : List.of(g, gs)) {
        PayloadRange r = Vhdx.payloadRange(t);
        io.lcowgd.testing.E2fsck.assertClean(t, r.offset());
        assertTrue(HostTools.allocatedBytes(t) < 4L << 20, t + " stays sparse: " + HostTools.allocatedBytes(t));
        assertEquals(layout(h), layout(t), "guest-made " + t.getFileName() + " has the host-made layout");
      }
      assertTrue(layout(g).contains("ITABLE_ZEROED") && layout(g).contains("sparse_super2")
          && !layout(g).contains("has_journal"), "a real dumpe2fs listing");
      try (Stream<Path> left = Files.exists(tmp.resolve("run")) ? Files.list(tmp.resolve("run")) : Stream.empty()) {
        assertEquals(List.of(), left.toList(), "each formatting VM was terminated");
      }
    } finally {
      formatter.close();
    }
  }

  @Test
  void aFailingGuestMke2fsFailsClearlyAndLeavesNoVm() throws Exception {
    UvmImage image = UML.image();
    Path run = tmp.resolve("run");
    GuestFormatter formatter = new GuestFormatter(new ServiceVmPool(new UmlBackend(image, run,
        UmlOptions.withTimeout(Duration.ofSeconds(60))), PoolMode.SAFE, Duration.ofSeconds(60)));
    try {
      Path img = tmp.resolve("raw.img");
      HostTools.check("truncate", "-s", "65M", img.toString());
      PayloadRange at1M = new PayloadRange(1 << 20, 64 << 20);
      Mke2fsSpec bad = new Mke2fsSpec(SandboxImage.SPEC.config(), List.of("-t", "ext4", "-O", "no_such_feature"),
          "", 4096);
      java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
          () -> formatter.format(img, at1M, bad));
      assertTrue(e.getMessage().contains("format " + img + " with mke2fs in service VM")
          && e.getMessage().contains("no_such_feature"), e.getMessage());
      // The same image with the real spec at that offset: a clean ext4 inside the file.
      formatter.format(img, at1M, SandboxImage.SPEC);
      io.lcowgd.testing.E2fsck.assertClean(img, 1 << 20);
      try (Stream<Path> left = Files.list(run)) {
        assertEquals(List.of(), left.toList(), "both formatting VMs were terminated");
      }
    } finally {
      formatter.close();
    }
  }

  /** dumpe2fs of the payload (superblock and every group), without what differs per run: ids, times, checksums. */
  private static String layout(Path vhdx) throws Exception {
    PayloadRange r = Vhdx.payloadRange(vhdx);
    String d = HostTools.check("dumpe2fs", vhdx + "?offset=" + r.offset());
    return d.lines()
        .filter(l -> !l.matches("(Filesystem UUID|Filesystem created|Last write time|Last checked|Last mount time"
            + "|Directory Hash Seed|Checksum|Lifetime writes):.*"))
        .map(l -> l.replaceAll("csum 0x[0-9a-f]+", "csum X"))
        .collect(Collectors.joining("\n"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"false", "true"})
  void driverGuestsGetScratchDisksThatGoWithThem(String global) throws Exception {
    long before = GuestFormatter.formatted();
    driver = LcowDriver.open(tmp.resolve("state"), UML.driverConfig(global));
    Path scratch = driver.root().resolve("scratch");
    driver.createReadWrite("c", "", "", null);
    assertEquals(before + 1, GuestFormatter.formatted(), "the sandbox template was made by a guest");
    String vmId = global.equals("true") ? ServiceVmPool.GLOBAL_ID : "c";
    try (TarStream ts = driver.diff("c", "")) {
      // The VM serving the Diff runs with its scratch disk, cloned from a guest-made scratch template.
      assertTrue(Files.isRegularFile(scratch.resolve(vmId + ".vhdx")), "scratch of the running VM");
      assertEquals(before + 2, GuestFormatter.formatted(), "the scratch template was made by a guest");
      io.lcowgd.testing.E2fsck.assertClean(driver.root().resolve("cache/scratch.vhdx"),
          Vhdx.payloadRange(driver.root().resolve("cache/scratch.vhdx")).offset());
      ts.writeTo(new ByteArrayOutputStream());
    }
    if (global.equals("true")) {
      assertTrue(Files.isRegularFile(scratch.resolve(vmId + ".vhdx")), "global mode: kept for the VM's life");
      driver.cleanup();
    }
    try (Stream<Path> left = Files.list(scratch)) {
      assertEquals(List.of(), left.toList(), "no scratch file after the VM (safe) or Cleanup (global)");
    }
    assertFalse(driver.status().stream().anyMatch(s -> s.key().equals("Guest VMs") && !s.value().startsWith("uml, 0 ")));
  }
}
