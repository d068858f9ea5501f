package io.lcowgd.lcow;

import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.svm.uml.ScratchDisk;
import io.lcowgd.svm.uml.ScratchDisks;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * The scratch disks of UML service VMs: {@code <root>/scratch/<vmId>.vhdx}, cloned from the cached scratch template
 * ({@link SandboxFactory#createScratch}). Should that name still be taken (a VM of the same id that timed out while
 * starting is still being stopped), {@code <vmId>-<random>.vhdx}. The VM deletes its file when it terminates.
 */
final class ScratchFiles implements ScratchDisks {
  private final Path dir;
  private final SandboxFactory sandboxes;

  ScratchFiles(Path dir, SandboxFactory sandboxes) {
    this.dir = dir;
    this.sandboxes = sandboxes;
  }

  @Override
  public Optional<ScratchDisk> create(String vmId) throws IOException {
    if (!vmId.matches("[A-Za-z0-9_.-]+") || vmId.startsWith(".")) {
      throw new IllegalArgumentException("service VM id " + vmId + " cannot name a scratch file");
    }
    Path dest = dir.resolve(vmId + ".vhdx");
    try {
      sandboxes.createScratch(dest);
    } catch (FileAlreadyExistsException e) {
      dest = dir.resolve(vmId + "-" + UUID.randomUUID().toString().substring(0, 8) + ".vhdx");
      sandboxes.createScratch(dest);
    }
    return Optional.of(new ScratchDisk(dest, ImagePayload.ofVhdx(dest)));
  }
}
