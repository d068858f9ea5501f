package io.lcowgd.protocol;

/** A request the server cannot decode (bad JSON, missing layer id, missing query parameter); answered as 500 + Err. */
final class ProtocolException extends RuntimeException {
  ProtocolException(String message) {
    super(message);
  }

  ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
