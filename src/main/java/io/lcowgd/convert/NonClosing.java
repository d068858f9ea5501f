package io.lcowgd.convert;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** Passes writes through and only flushes on close, so the caller keeps ownership of its stream. */
final class NonClosing extends FilterOutputStream {
  NonClosing(OutputStream out) {
    super(out);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
  }

  @Override
  public void close() throws IOException {
    out.flush();
  }
}
