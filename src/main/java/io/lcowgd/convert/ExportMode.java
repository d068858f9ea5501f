package io.lcowgd.convert;

/** Which tree of an ext4 image a layer tar (or a {@link LayerView}) contains. */
public enum ExportMode {
  /** A read-only layer ({@code layer.vhd}): the whole filesystem. */
  LAYER,
  /**
   * A container sandbox: the overlay upper directory {@code /upper}, or the whole filesystem when the image has no
   * {@code /upper} directory (the FROM-scratch case), as the original {@code exportSandbox} did.
   */
  SANDBOX
}
