package io.lcowgd;

import io.lcowgd.lcow.LcowDriver;

/**
 * The composition root: which {@link io.lcowgd.graphdriver.GraphDriver} implementation {@code lcow serve} runs.
 *
 * <p>{@code lcow serve} runs the LCOW driver: its state directory (where Init's home and options are saved) and its
 * data root until Init names a home is {@code --root}; its daemon-wide options are the {@code --opt lcow.KEY=VALUE}
 * flags, which Init's {@code Opts} (dockerd's {@code --storage-opt}) then override key by key.
 */
public final class Wiring {
  private Wiring() {}

  /** The factory {@code lcow serve} uses. */
  public static DriverFactory driverFactory() {
    return cfg -> LcowDriver.open(cfg.root(), cfg.driverConfig());
  }
}
