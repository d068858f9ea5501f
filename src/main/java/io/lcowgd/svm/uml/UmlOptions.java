package io.lcowgd.svm.uml;

import java.time.Duration;

/**
 * How UML service VMs are run.
 *
 * @param memoryMiB guest RAM cap ({@code mem=}); the host needs that much room in {@code /dev/shm}
 * @param bootTimeout bound on start to agent ready (the pool's {@code lcow.timeout})
 * @param opTimeout bound on one guest request
 */
public record UmlOptions(int memoryMiB, Duration bootTimeout, Duration opTimeout) {
  /** 128 MiB of guest RAM, the utility-vms.md measurements' size. */
  public static final int DEFAULT_MEMORY_MIB = 128;

  public UmlOptions {
    if (memoryMiB < 32) {
      throw new IllegalArgumentException("UML guest memory " + memoryMiB + " MiB is below 32 MiB");
    }
    if (bootTimeout.isNegative() || bootTimeout.isZero() || opTimeout.isNegative() || opTimeout.isZero()) {
      throw new IllegalArgumentException("UML timeouts must be positive");
    }
  }

  /** Defaults with every bound set to {@code timeout}. */
  public static UmlOptions withTimeout(Duration timeout) {
    return new UmlOptions(DEFAULT_MEMORY_MIB, timeout, timeout);
  }
}
