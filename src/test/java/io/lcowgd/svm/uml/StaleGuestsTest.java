package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.testing.UmlGuestExtension;
import io.lcowgd.testing.UmlGuestExtension.Needs;
import io.lcowgd.vhdx.Vhdx;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stale-guest clean-up with real processes: a child JVM boots a UML guest and exits without cleaning up (orphan), a
 * second child keeps running with its guest, and this JVM runs one too, all under one run base. The clean-up kills
 * only the orphan (process group), deletes its run directory and scratch file, and leaves the others untouched;
 * once the second child is SIGKILLed, its guest is stale too and goes on the next clean-up.
 */
class StaleGuestsTest {
  @RegisterExtension static final UmlGuestExtension UML = new UmlGuestExtension(Needs.UML_ONLY);

  @TempDir Path tmp;
  private final List<Process> children = new ArrayList<>();
  private final List<Long> groups = new ArrayList<>();
  private UmlVm own;

  @AfterEach
  void killWhatIsLeft() throws Exception {
    for (Process p : children) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (long g : groups) { // only groups this test started (a failed assertion must not leak guests)
      if (!ProcessGroups.members(g).isEmpty()) {
        ProcessGroups.kill(g);
      }
    }
    if (own != null) {
      own.terminate();
    }
  }

  private record Child(Process process, String umid, long umlPid) {}

  private Child child(Path runBase, Path scratch, String mode) throws Exception {
    PayloadRange r = Vhdx.payloadRange(scratch);
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, OrphanGuest.class.getName(),
        UML.image().kernel().toString(), UML.image().initrd().toString(), runBase.toString(), scratch.toString(),
        Long.toString(r.offset()), Long.toString(r.length()), mode).redirectErrorStream(true).start();
    children.add(p);
    BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String line; (line = in.readLine()) != null; ) {
      seen.append(line).append('\n');
      if (line.startsWith("READY ")) {
        String[] f = line.split(" ");
        groups.add(Long.parseLong(f[2]));
        return new Child(p, f[1], Long.parseLong(f[2]));
      }
    }
    throw new AssertionError("child did not boot its guest:\n" + seen);
  }

  @Test
  void killsOnlyGuestsOfDeadOwnersAndDeletesTheirRunDirsAndScratch() throws Exception {
    Path runBase = tmp.resolve("run");
    Path scratchDir = tmp.resolve("scratch");
    Files.createDirectories(scratchDir);
    SandboxFactory f = new SandboxFactory(tmp.resolve("cache"));
    Path s1 = scratchDir.resolve("a.vhdx");
    Path s2 = scratchDir.resolve("b.vhdx");
    Path s3 = scratchDir.resolve("c.vhdx");
    Path s4 = scratchDir.resolve("d.vhdx");
    f.createScratch(s1);
    f.createScratch(s2);
    f.createScratch(s3);
    f.createScratch(s4);

    Child dead = child(runBase, s1, "exit-busy");
    assertTrue(dead.process().waitFor(30, TimeUnit.SECONDS), "the first child exited");
    Child idle = child(runBase, s4, "exit-idle");
    assertTrue(idle.process().waitFor(30, TimeUnit.SECONDS), "the idle child exited");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!ProcessGroups.members(idle.umlPid()).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(ProcessGroups.members(idle.umlPid()).isEmpty(), "an idle guest ends by itself without its owner");
    assertTrue(Files.exists(s4) && Files.isDirectory(runBase.resolve(idle.umid())), "but leaves its files");
    Child live = child(runBase, s2, "stay-busy");
    PayloadRange r3 = Vhdx.payloadRange(s3);
    own = new UmlBackend(UML.image(), runBase, UmlOptions.withTimeout(Duration.ofSeconds(60)),
        id -> Optional.of(new ScratchDisk(s3, r3))).start("own");
    assertFalse(ProcessGroups.members(dead.umlPid()).isEmpty(), "the orphan guest outlived its owner");

    StaleGuests.Report rep = StaleGuests.clean(runBase);
    System.out.println("stale clean-up: " + rep);
    assertEquals(List.of(dead.umid()), rep.killed());
    assertEquals(java.util.Set.of(runBase.resolve(dead.umid()), runBase.resolve(idle.umid())),
        java.util.Set.copyOf(rep.runDirs()));
    assertEquals(java.util.Set.of(s1, s4), java.util.Set.copyOf(rep.scratchFiles()));
    assertTrue(ProcessGroups.members(dead.umlPid()).isEmpty(), "orphan's process group gone");
    assertFalse(Files.exists(s1) || Files.exists(runBase.resolve(dead.umid())), "orphan's scratch and run dir gone");
    // The live child's guest and this JVM's own guest are untouched.
    assertFalse(ProcessGroups.members(live.umlPid()).isEmpty(), "a live owner's guest survives");
    assertTrue(Files.exists(s2) && Files.isDirectory(runBase.resolve(live.umid())));
    assertEquals("ok\n", own.run("echo ok"));
    assertTrue(Files.exists(s3));

    assertTrue(StaleGuests.clean(runBase).isEmpty(), "nothing more is stale");

    // SIGKILL the live child: its guest is orphaned and the next clean-up takes it.
    live.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    assertFalse(ProcessGroups.members(live.umlPid()).isEmpty(), "the guest outlived its SIGKILLed owner");
    StaleGuests.Report rep2 = StaleGuests.clean(runBase);
    assertEquals(List.of(live.umid()), rep2.killed());
    assertEquals(List.of(s2), rep2.scratchFiles());
    assertTrue(ProcessGroups.members(live.umlPid()).isEmpty());
    assertEquals("still\n", own.run("echo still"));
    own.terminate();
    assertFalse(Files.exists(s3), "own guest's scratch deleted by its terminate");
    try (var left = Files.list(runBase)) {
      assertEquals(List.of(), left.toList());
    }
  }

  @Test
  void aReusedPidDoesNotMakeAnOwnerAlive() {
    long me = ProcessHandle.current().pid();
    Instant myStart = ProcessHandle.current().info().startInstant().orElseThrow();
    assertTrue(StaleGuests.ownerAlive(me, Optional.of(Instant.now())), "started before: the owner");
    assertTrue(StaleGuests.ownerAlive(me, Optional.empty()), "unknown: treated as alive");
    assertFalse(StaleGuests.ownerAlive(me, Optional.of(myStart.minusSeconds(60))),
        "a process that started after the guest cannot own it");
    assertFalse(StaleGuests.ownerAlive(Long.MAX_VALUE / 2, Optional.empty()), "no such process");
  }
}
