package io.lcowgd.svm.uml;

import io.lcowgd.disk.PayloadRange;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The scratch disk of one UML service VM: an image file made for that VM alone (e.g. {@code <root>/scratch/<vmId>.vhdx})
 * whose payload {@code range} holds an empty writable ext4; attached read-write at boot and mounted at {@link
 * UmlVm#SCRATCH} in the guest; the VM deletes the file when it terminates.
 *
 * @param image the host image file
 * @param range where the ext4 lies in it
 */
public record ScratchDisk(Path image, PayloadRange range) {
  public ScratchDisk {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(range, "range");
  }
}
