package io.lcowgd;

import io.lcowgd.graphdriver.GraphDriverException;

/**
 * The composition root: which {@link io.lcowgd.graphdriver.GraphDriver} implementation {@code lcow serve} runs.
 *
 * <p>Not wired yet on this branch: the LCOW driver ({@code io.lcowgd.lcow.LcowDriver}) is built elsewhere and gets
 * plugged in here when the branches are merged. Until then the server starts and answers {@code Plugin.Activate},
 * and every {@code GraphDriver.*} call fails with a clear "driver not wired" error.
 */
public final class Wiring {
  private Wiring() {}

  /** The factory {@code lcow serve} uses. */
  public static DriverFactory driverFactory() {
    return cfg -> {
      throw new GraphDriverException(GraphDriverException.Category.UNAVAILABLE,
          "driver not wired: io.lcowgd.Wiring.driverFactory() does not create a GraphDriver in this build");
    };
  }
}
