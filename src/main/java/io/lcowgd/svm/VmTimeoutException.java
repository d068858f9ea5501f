package io.lcowgd.svm;

import java.io.IOException;

/** A service-VM operation did not finish within {@code lcow.timeout}. */
public class VmTimeoutException extends IOException {
  public VmTimeoutException(String message) {
    super(message);
  }
}
