package io.lcowgd;

import io.lcowgd.config.ServeConfig;
import io.lcowgd.graphdriver.GraphDriver;

/**
 * Builds the {@link GraphDriver} that {@code lcow serve} serves; supplied by the composition root ({@link Wiring}).
 *
 * <p>{@code lcow serve} binds its sockets first and calls the factory afterwards, on a background thread, so a slow
 * driver start never delays the socket (dockerd gives a managed plugin about 10 s). Requests that need the driver
 * wait for it. If the returned driver is {@link AutoCloseable}, it is closed when the server stops (SIGTERM); that
 * is not {@link GraphDriver#cleanup()}, which dockerd calls itself before stopping a plugin.
 */
@FunctionalInterface
public interface DriverFactory {

  /** Creates the driver for {@code cfg} (data root, daemon-wide options); may take its time. */
  GraphDriver create(ServeConfig cfg) throws Exception;
}
