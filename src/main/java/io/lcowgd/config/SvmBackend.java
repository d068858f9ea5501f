package io.lcowgd.config;

import java.util.Locale;

/** Where the service-VM pool runs its work ({@code lcow.svm}). */
public enum SvmBackend {
  /** The Linux host kernel: loop devices, ext4 mounts and overlayfs on the host itself. */
  HOST,
  /** A User-Mode Linux guest per service VM. */
  UML;

  /** The option value, e.g. {@code host}. */
  public String optionValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses an option value case-insensitively; the error names {@code key} and the value. */
  static SvmBackend parse(String key, String value) {
    for (SvmBackend b : values()) {
      if (b.optionValue().equalsIgnoreCase(value)) {
        return b;
      }
    }
    throw new ConfigException(key + "=" + value + ": expected one of host, uml");
  }
}
