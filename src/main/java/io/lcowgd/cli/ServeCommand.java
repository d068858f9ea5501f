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
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lcow serve}: serves the GraphDriver plugin protocol until SIGTERM or SIGINT.
 *
 * <p>Order of start-up: parse the flags ({@link ServeConfig}), bind the listeners (unix socket, TCP, spec file), and
 * only then build the driver with the {@link DriverFactory} on a background thread ({@link DeferredDriver}), so the
 * socket answers within about a second of JVM start however long the driver takes. On SIGTERM/SIGINT: stop
 * accepting, let in-flight requests finish (up to 5 s), remove the socket and spec file, close the driver if it is
 * {@link AutoCloseable}, exit 0 (a shutdown hook does this and halts with status 0).
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
    Running running = start(cfg, factory);
    // SIGTERM/SIGINT run this hook; halting with 0 from it makes a requested stop a clean exit (the JVM would
    // otherwise report 143/130) without relying on sun.misc.Signal.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("lcow serve: stopping");
      running.close();
      Runtime.getRuntime().halt(0);
    }, "lcow-shutdown"));
    log.info("lcow serve: ready {} ms after JVM start (root {}, options {})", millisSinceJvmStart(), cfg.root(),
        cfg.driverOptions());
    running.driver().target().whenComplete((d, e) -> {
      if (e != null) {
        log.error("the graph driver failed to start; every GraphDriver call will fail: {}", e.getMessage(), e);
      } else {
        log.info("graph driver {} ready {} ms after JVM start", d.getClass().getSimpleName(), millisSinceJvmStart());
      }
    });
    while (true) {
      Thread.sleep(Long.MAX_VALUE); // until a signal starts the shutdown hook
    }
  }

  /** A started server plus the driver behind it. */
  public static final class Running implements AutoCloseable {
    private final PluginServer server;
    private final DeferredDriver driver;
    private final AtomicBoolean closed = new AtomicBoolean();

    Running(PluginServer server, DeferredDriver driver) {
      this.server = server;
      this.driver = driver;
    }

    /** The HTTP server (its listeners tell the bound socket path and TCP port). */
    public PluginServer server() {
      return server;
    }

    /** The driver being served; its {@link DeferredDriver#target()} completes when the factory has built it. */
    public DeferredDriver driver() {
      return driver;
    }

    /** Stops the server (socket and spec files removed), then closes the driver if it is closeable. Idempotent. */
    @Override
    public void close() {
      if (!closed.compareAndSet(false, true)) {
        return;
      }
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
