package io.lcowgd.sandbox;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Formats the payload of a freshly made template image as an empty ext4 as {@link Mke2fsSpec} says. {@link #HOST}
 * runs the host's {@code mke2fs}; the composition root may inject another (e.g. the {@code mkfs.ext4} of a UML
 * service VM) without this package knowing service VMs.
 */
@FunctionalInterface
public interface Ext4Formatter {
  /** The host's e2fsprogs {@code mke2fs}, run on the image file at the payload offset. */
  Ext4Formatter HOST = SandboxImage::hostMke2fs;

  /**
   * Formats {@code range} of {@code image} (whose size is final and whose payload reads as zeros: a hole) per
   * {@code spec}, and flushes it to the file.
   */
  void format(Path image, PayloadRange range, Mke2fsSpec spec) throws IOException;
}
