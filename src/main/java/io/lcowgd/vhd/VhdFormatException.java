package io.lcowgd.vhd;

import java.io.IOException;

/** A file that is not a valid VHD of the expected kind; the message says which check failed. */
public class VhdFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public VhdFormatException(String message) {
    super(message);
  }
}
