package io.lcowgd.svm;

/** How a disk image is attached: read-only (image layers, parents) or read-write (the top sandbox). */
public enum AccessMode {
  READ_ONLY,
  READ_WRITE
}
