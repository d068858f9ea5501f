package io.lcowgd.image;

/** The container format around an ext4 filesystem, detected from the file's bytes. */
public enum ContainerType {
  /** A bare filesystem image: the file is the disk. */
  RAW,
  /** A fixed VHD: the disk followed by a 512-byte footer whose cookie is {@code conectix}. */
  VHD_FIXED,
  /** A VHDX file (file identifier {@code vhdxfile} at offset 0). */
  VHDX
}
