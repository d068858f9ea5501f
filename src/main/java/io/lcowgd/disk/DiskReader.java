package io.lcowgd.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A read-only, random-access view of a virtual disk's bytes: a raw image, the payload of a fixed VHD (the file minus
 * its 512-byte footer), or the virtual disk inside a VHDX. Offsets are virtual-disk offsets.
 */
public interface DiskReader extends Closeable {

  /** The virtual disk size in bytes. */
  long size();

  /**
   * Reads exactly {@code dst.remaining()} bytes starting at virtual {@code offset}. Regions the container format
   * leaves unallocated read as zeros. Reading past {@link #size()} throws {@link java.io.EOFException}.
   */
  void readFully(long offset, ByteBuffer dst) throws IOException;
}
