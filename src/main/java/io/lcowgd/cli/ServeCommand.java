package io.lcowgd.cli;

import io.lcowgd.DeferredDriver;
import io.lcowgd.DriverFactory;
import io.lcowgd.config.ConfigException;
import io.lcowgd.config.ServeConfig;
import io.lcowgd.protocol.PluginServer;
import io.lcowgd.protocol.transport.Listener;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code lcow serve}: serves the GraphDriver plugin protocol until SIGTERM or SIGINT.
 *
 * <p>Order of start-up: parse the flags ({@link ServeConfig}), bind the listeners (unix socket, TCP, spec file), and
 * only then build the driver with the {@link DriverFactory} on a background thread ({@link DeferredDriver}), so the
 * socket answers within about a second of JVM start however long the driver takes. On SIGTERM/SIGINT: stop
 * accepting, let in-flight requests finish (up to 5 s), remove the socket and spec file, close the driver if it is
 * {@link AutoCloseable}, exit 0.
 */
public final class ServeCommand implements Command {
  private final DriverFactory factory;

  /** A {@code serve} command that serves the drivers {@code factory} makes. */
  public ServeCommand(DriverFactory factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  @Override
  public String name() {
    return "serve";
  }

  @Override
  public String usage() {
    return "[--root DIR] [--socket PATH] [--tcp HOST:PORT] [--opt lcow.KEY=VALUE ...]: serve the plugin";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    if (args.contains("--help") || args.contains("-h")) {
      out.println("usage: lcow serve [FLAGS]\n" + ServeConfig.USAGE);
      return 0;
    }
    ServeConfig cfg;
    try {
      cfg = ServeConfig.parse(args);
    } catch (ConfigException e) {
      err.println("lcow serve: " + e.getMessage());
      err.println("usage: lcow serve [FLAGS]\n" + ServeConfig.USAGE);
      return 2;
    }
    configureLogging(cfg.debug());
    Logger log = LoggerFactory.getLogger(ServeCommand.class);
    CountDownLatch stop = new CountDownLatch(1);
    for (String sig : List.of("TERM", "INT")) {
      Signal.handle(new Signal(sig), s -> stop.countDown());
    }
    Running running = start(cfg, factory);
    Thread hook = new Thread(running::close, "lcow-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    log.info("lcow serve: ready {} ms after JVM start (root {}, options {})", millisSinceJvmStart(), cfg.root(),
        cfg.driverOptions());
    running.driver().target().whenComplete((d, e) -> {
      if (e != null) {
        log.error("the graph driver failed to start; every GraphDriver call will fail: {}", e.getMessage(), e);
      } else {
        log.info("graph driver {} ready {} ms after JVM start", d.getClass().getSimpleName(), millisSinceJvmStart());
      }
    });
    stop.await();
    log.info("lcow serve: stopping");
    running.close();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Already shutting down: the hook's close() is idempotent.
    }
    return 0;
  }

  /** A started server plus the driver behind it. */
  public record Running(PluginServer server, DeferredDriver driver) implements AutoCloseable {
    /** Stops the server (socket and spec files removed), then closes the driver. Idempotent. */
    @Override
    public void close() {
      server.close();
      try {
        driver.close(2000);
      } catch (Exception e) {
        LoggerFactory.getLogger(ServeCommand.class).warn("closing the graph driver: {}", e.toString());
      }
    }
  }

  /**
   * Binds every listener of {@code cfg}, then starts building the driver with {@code factory} in the background.
   * Returns once the listeners accept connections.
   */
  public static Running start(ServeConfig cfg, DriverFactory factory) throws IOException {
    DeferredDriver driver = new DeferredDriver();
    PluginServer server = PluginServer.start(driver, Listener.forConfig(cfg));
    driver.startBuilding(factory, cfg);
    return new Running(server, driver);
  }

  /** Milliseconds since this JVM started (0 if the OS does not say). */
  static long millisSinceJvmStart() {
    return ProcessHandle.current().info().startInstant()
        .map(t -> Duration.between(t, Instant.now()).toMillis()).orElse(0L);
  }

  private static void configureLogging(boolean debug) {
    setDefault("org.slf4j.simpleLogger.defaultLogLevel", debug ? "debug" : "info");
    setDefault("org.slf4j.simpleLogger.log.org.eclipse.jetty", debug ? "info" : "warn");
    setDefault("org.slf4j.simpleLogger.log.io.javalin", "warn");
    setDefault("org.slf4j.simpleLogger.showDateTime", "true");
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    setDefault("org.slf4j.simpleLogger.showShortLogName", "true");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
