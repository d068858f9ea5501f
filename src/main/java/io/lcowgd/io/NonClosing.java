package io.lcowgd.io;

import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Wrappers whose {@code close()} leaves the wrapped stream open, so a callee that closes what it is given cannot take
 * the stream away from the caller that owns it.
 */
public final class NonClosing {
  private NonClosing() {}

  /** {@code out} with writes passed through unchanged; {@code close()} only flushes it. */
  public static OutputStream output(OutputStream out) {
    return new Output(out);
  }

  /** {@code in} with reads passed through unchanged; {@code close()} does nothing. */
  public static InputStream input(InputStream in) {
    return new Input(in);
  }

  private static final class Output extends FilterOutputStream {
    Output(OutputStream out) {
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

  private static final class Input extends FilterInputStream {
    Input(InputStream in) {
      super(in);
    }

    @Override
    public void close() {}
  }
}
