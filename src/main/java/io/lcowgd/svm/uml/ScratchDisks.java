package io.lcowgd.svm.uml;

import java.io.IOException;
import java.util.Optional;

/**
 * Makes the scratch disk of each UML service VM (injected into {@link UmlBackend} by the composition root, so this
 * package needs neither the layer store nor the sandbox templates). The VM owns the file it is given and deletes it
 * when it terminates.
 */
@FunctionalInterface
public interface ScratchDisks {
  /** No scratch disk: guest temporary files stay in the guest's RAM {@code /tmp}. */
  ScratchDisks NONE = vmId -> Optional.empty();

  /**
   * Creates a fresh scratch disk for the VM {@code vmId} (a layer id or the pool's global id), never reusing an
   * existing file, or returns empty if this backend runs without one.
   */
  Optional<ScratchDisk> create(String vmId) throws IOException;
}
