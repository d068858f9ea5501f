package io.lcowgd.config;

/** A rejected option or flag; the message names the key (or flag) and the offending value. */
public final class ConfigException extends IllegalArgumentException {

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
