package io.lcowgd.convert;

import java.io.IOException;

/** A layer tar that cannot be converted: malformed, hostile or too large; the message names the entry. */
public class LayerTarException extends IOException {
  private static final long serialVersionUID = 1L;

  public LayerTarException(String message) {
    super(message);
  }

  public LayerTarException(String message, Throwable cause) {
    super(message, cause);
  }
}
