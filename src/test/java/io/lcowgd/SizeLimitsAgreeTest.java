package io.lcowgd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lcowgd.config.DriverConfig;
import io.lcowgd.sandbox.SandboxFactory;
import org.junit.jupiter.api.Test;

/**
 * The sandbox size limits live twice, in {@code config} (option validation) and {@code sandbox} (template maker),
 * because neither package may depend on the other; this keeps the two from drifting apart.
 */
class SizeLimitsAgreeTest {

  @Test
  void configAndSandboxFactoryAgreeOnSandboxSizeLimits() {
    assertEquals(DriverConfig.MIN_SANDBOX_SIZE_GB, SandboxFactory.DEFAULT_SIZE_GB);
    assertEquals(DriverConfig.MAX_SANDBOX_SIZE_GB, SandboxFactory.MAX_SIZE_GB);
    assertEquals(DriverConfig.MIN_SANDBOX_SIZE_GB, DriverConfig.DEFAULTS.sandboxSizeGb());
  }
}
