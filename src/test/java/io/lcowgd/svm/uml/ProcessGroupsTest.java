package io.lcowgd.svm.uml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ProcessGroupsTest {
  @Test
  void killSignalsTheWholeGroupAndToleratesAGoneGroup() throws Exception {
    // setsid: a new process group led by the shell, with two background children in it.
    Process p = new ProcessBuilder("setsid", "sh", "-c", "sleep 60 & sleep 60 & wait").start();
    try {
      long pgid = p.pid();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ProcessGroups.members(pgid).size() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      List<Long> members = ProcessGroups.members(pgid);
      assertEquals(3, members.size(), "shell and two sleeps in group " + pgid + ": " + members);
      assertEquals(pgid, ProcessGroups.groupOf(members.get(0)));

      ProcessGroups.kill(pgid);
      assertTrue(p.waitFor(10, TimeUnit.SECONDS), "group leader killed");
      assertEquals(128 + 9, p.exitValue(), "killed by SIGKILL, not another signal");
      while (!ProcessGroups.members(pgid).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(List.of(), ProcessGroups.members(pgid), "no process of the group left");
      assertFalse(ProcessGroups.isRunning(pgid));

      ProcessGroups.kill(pgid); // ESRCH: the group is gone, no error
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void killRefusesPidsThatAreNotAProcessGroupToKill() {
    assertThrows(IllegalArgumentException.class, () -> ProcessGroups.kill(1));
    assertThrows(IllegalArgumentException.class, () -> ProcessGroups.kill(0));
    assertThrows(IllegalArgumentException.class, () -> ProcessGroups.kill(-5));
  }
}
