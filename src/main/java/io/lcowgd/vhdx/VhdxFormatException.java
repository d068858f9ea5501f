package io.lcowgd.vhdx;

import java.io.IOException;

/** A VHDX file that this code refuses to read: malformed, corrupt, or using a feature it does not support. */
public class VhdxFormatException extends IOException {
  public VhdxFormatException(String message) {
    super(message);
  }

  public VhdxFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
