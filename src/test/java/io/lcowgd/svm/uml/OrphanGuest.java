package io.lcowgd.svm.uml;

import io.lcowgd.disk.PayloadRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A stand-in plugin process for {@link StaleGuestsTest}: boots one UML guest under {@code RUNBASE} with the scratch
 * file {@code SCRATCH} (an existing scratch clone), optionally leaves its agent busy in a long command ({@code -busy}),
 * prints {@code READY <umid> <uml pid>}, then either exits at once without any clean-up ({@code exit-*}: the guest,
 * which leads its own session, is orphaned) or stays ({@code stay-*}). An idle guest ends by itself once its owner
 * is gone (its agent reads the end of the control line and init exits); a busy one stays.
 *
 * <p>Usage: {@code OrphanGuest KERNEL INITRD RUNBASE SCRATCH OFFSET LENGTH exit-idle|exit-busy|stay-busy}
 */
public final class OrphanGuest {
  private OrphanGuest() {}

  public static void main(String[] a) throws Exception {
    UvmImage image = UvmImage.of(Path.of(a[0]), Path.of(a[1]), "");
    ScratchDisk disk = new ScratchDisk(Path.of(a[3]), new PayloadRange(Long.parseLong(a[4]), Long.parseLong(a[5])));
    UmlBackend b = new UmlBackend(image, Path.of(a[2]), UmlOptions.withTimeout(Duration.ofSeconds(60)),
        id -> Optional.of(disk));
    UmlVm vm = b.start("orphan");
    vm.run("echo data > /tmp/scratch/marker");
    if (a[6].endsWith("-busy")) {
      // The agent stays inside a long command, so it never reads the end of its control line when we are gone.
      Thread t = new Thread(() -> {
        try {
          vm.run("sleep 100000");
        } catch (java.io.IOException e) {
          // the guest was killed
        }
      });
      t.setDaemon(true);
      t.start();
      Thread.sleep(500);
    }
    System.out.println("READY " + vm.umid() + " " + vm.pid());
    System.out.flush();
    if (a[6].startsWith("exit")) {
      Runtime.getRuntime().halt(0); // no shutdown hooks, no terminate: like a SIGKILLed plugin
    }
    Thread.sleep(Long.MAX_VALUE); // until the test kills this process (SIGKILL: the guest stays, orphaned)
  }
}
