package io.lcowgd.lcow;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.testing.UmlGuests;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lcow.svm=uml} in the composition root: the guest files are checked and the guest pool shows in Status. */
class UmlWiringTest {
  @TempDir Path tmp;

  @Test
  void missingGuestFailsClearlyAndBuiltGuestIsAccepted() throws Exception {
    Path kird = tmp.resolve("uvm");
    DriverConfig cfg = DriverConfig.DEFAULTS.withOptions(List.of("lcow.svm=uml", "lcow.kirdpath=" + kird));
    GraphDriverException e = assertThrows(GraphDriverException.class, () -> LcowDriver.open(tmp.resolve("a"), cfg));
    assertTrue(e.getMessage().contains("lcow.svm=uml") && e.getMessage().contains("scripts/build-uvm"), e.getMessage());

    UmlGuests.assumeInstalled();
    UmlGuests.build(kird);
    try (LcowDriver d = LcowDriver.open(tmp.resolve("b"), cfg)) {
      List<StatusLine> st = d.status();
      assertTrue(st.contains(new StatusLine("Backend", "host")), st.toString());
      assertTrue(st.stream().anyMatch(l -> l.key().equals("Guest VMs") && l.value().matches("uml, 0 running, \\d+ "
          + "sandbox Diffs done in guests \\(Get/Put, ApplyDiff and image-layer Diffs on the host\\)")),
          st.toString());
    }
  }
}
