package io.lcowgd.graphdriver;

import java.io.IOException;
import java.io.OutputStream;

/** A layer tar ready to be written once; {@link #close()} releases what the producer holds (mounts, VMs). */
public interface TarStream extends AutoCloseable {

  /** Writes the whole tar to {@code out}; an exception part-way means the stream is truncated and must be aborted. */
  void writeTo(OutputStream out) throws IOException;

  @Override
  void close() throws IOException;
}
