package io.lcowgd.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCommandTest {
  @TempDir Path tmp;

  private static HostCommand sh(String script, String what) {
    return HostCommand.of(List.of("sh", "-c", script), what);
  }

  @Test
  void returnsStdoutAndStderrMergedWithStdinEmpty() throws IOException {
    assertEquals("out\nerr\n", sh("echo out; echo err >&2", "merge").run());
    assertEquals("0\n", sh("wc -c", "stdin").run().replace(" ", ""), "standard input is /dev/null");
  }

  @Test
  void aNonZeroStatusFailsNamingPurposeCommandStatusAndOutput() {
    IOException e = assertThrows(IOException.class, () -> sh("echo why; exit 3", "do the thing").run());
    assertEquals("do the thing: sh -c echo why; exit 3 failed with status 3: why", e.getMessage());
    IOException missing = assertThrows(IOException.class,
        () -> HostCommand.of(List.of(tmp.resolve("no-such-tool").toString()), "use a tool").run());
    assertTrue(missing.getMessage().startsWith("use a tool: cannot run " + tmp.resolve("no-such-tool")),
        missing.getMessage());
  }

  @Test
  void aCommandPastItsTimeoutIsKilledAndReported() throws Exception {
    Path pidFile = tmp.resolve("pid");
    long t0 = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> sh("echo $$ > " + pidFile + "; exec sleep 30", "wait")
        .timeout(Duration.ofMillis(300)).run());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals("wait: sh did not finish in 0.3 s", e.getMessage());
    assertTrue(ms < 5_000, "gave up after " + ms + " ms");
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    assertFalse(ProcessHandle.of(pid).map(h -> h.onExit().join().isAlive()).orElse(false), "sleep was killed");
  }

  @Test
  void theGiveUpConditionAbandonsTheCommandAtOnce() {
    AtomicBoolean peerGone = new AtomicBoolean();
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
      peerGone.set(true);
    });
    t.start();
    long t0 = System.nanoTime();
    HostCommand.Abandoned e = assertThrows(HostCommand.Abandoned.class,
        () -> sh("exec sleep 30", "talk to the peer").abandonWhen(peerGone::get, "the peer exited").run());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals("talk to the peer: the peer exited", e.getMessage());
    assertTrue(ms >= 150 && ms < 5_000, "abandoned after " + ms + " ms");
  }

  @Test
  void environmentIsAddedToTheJvmsAndOutputLargerThanAPipeDoesNotBlock() throws IOException {
    assertEquals("v|" + System.getenv("PATH") + "\n",
        sh("echo \"$LCOW_TEST_VAR|$PATH\"", "env").environment("LCOW_TEST_VAR", "v").run());
    String big = sh("head -c 300000 /dev/zero | tr '\\0' x", "chatty").timeout(Duration.ofSeconds(20)).run();
    assertEquals(300_000, big.length());
    assertTrue(big.chars().allMatch(c -> c == 'x'));
  }

  @Test
  void anInterruptKillsTheCommandAndKeepsTheFlag() {
    Thread.currentThread().interrupt();
    try {
      InterruptedIOException e = assertThrows(InterruptedIOException.class, () -> sh("exec sleep 30", "nap").run());
      assertEquals("nap: interrupted", e.getMessage());
      assertTrue(Thread.currentThread().isInterrupted(), "interrupt flag set again");
    } finally {
      Thread.interrupted();
    }
  }
}
