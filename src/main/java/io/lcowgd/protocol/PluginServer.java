package io.lcowgd.protocol;

import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.protocol.transport.Listener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GraphDriver plugin server: Javalin on the given {@link Listener}s, serving {@link Endpoints#table()} for one
 * {@link GraphDriver}.
 *
 * <p>Protocol rules it keeps (see {@code docs/protocol-server.md}): routing on the path only (POST, also GET and PUT
 * for manual use), any or an empty {@code Host}, no {@code Content-Type} needed, no compression, JSON replies always
 * at least {@code {}}, errors as 500 + {@code {"Err"}}, unknown paths 404, concurrent requests, and a long idle
 * timeout so slow streams are not cut.
 *
 * <p>Lifecycle: {@link #start} prepares and opens every listener and returns once they accept connections; {@link
 * #close()} stops accepting, lets in-flight requests finish for up to {@link Options#stopGrace()}, stops Jetty and
 * unpublishes the listeners. It does not call {@link GraphDriver#cleanup()} (dockerd does that itself).
 */
public final class PluginServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PluginServer.class);

  /**
   * Tunables of the HTTP layer.
   *
   * @param idleTimeout how long a connection may see no I/O before Jetty closes it (default 1 hour, so a driver busy
   *     for minutes on a Get or an ApplyDiff does not lose its connection)
   * @param stopGrace how long {@link #close()} waits for in-flight requests (default 5 s; dockerd kills a managed
   *     plugin 10 s after SIGTERM)
   * @param maxThreads request threads (default 200)
   */
  public record Options(Duration idleTimeout, Duration stopGrace, int maxThreads) {
    public static final Options DEFAULTS = new Options(Duration.ofHours(1), Duration.ofSeconds(5), 200);

    public Options {
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      Objects.requireNonNull(stopGrace, "stopGrace");
      if (maxThreads < 8) {
        throw new IllegalArgumentException("maxThreads " + maxThreads + " < 8");
      }
    }
  }

  private final GraphDriver driver;
  private final List<Listener> listeners;
  private final Options options;
  private final InFlight inFlight = new InFlight();
  private final List<Connector> connectors = new ArrayList<>();
  private Javalin app;
  private boolean closed;

  private PluginServer(GraphDriver driver, List<Listener> listeners, Options options) {
    this.driver = driver;
    this.listeners = List.copyOf(listeners);
    this.options = options;
  }

  /**
   * Starts a server for {@code driver} on {@code listeners} and returns once every listener accepts connections.
   * On failure nothing is left listening or published.
   */
  public static PluginServer start(GraphDriver driver, List<Listener> listeners, Options options)
      throws IOException {
    Objects.requireNonNull(driver, "driver");
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("no listener to serve on");
    }
    PluginServer s = new PluginServer(driver, listeners, options);
    try {
      s.doStart();
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** {@link #start} with {@link Options#DEFAULTS}. */
  public static PluginServer start(GraphDriver driver, List<Listener> listeners) throws IOException {
    return start(driver, listeners, Options.DEFAULTS);
  }

  /** The listeners, as passed to {@link #start}. */
  public List<Listener> listeners() {
    return listeners;
  }

  private void doStart() throws IOException {
    for (Listener l : listeners) {
      l.prepare();
    }
    List<Endpoint> table = Endpoints.table();
    QueuedThreadPool pool = new QueuedThreadPool(options.maxThreads(), 4);
    pool.setName("lcow-http");
    app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.startup.startupWatcherEnabled = false;
      cfg.http.compressionStrategy = CompressionStrategy.NONE;
      cfg.http.generateEtags = false;
      cfg.jetty.threadPool = pool;
      cfg.jetty.modifyHttpConfiguration(http -> {
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
      });
      for (Listener l : listeners) {
        cfg.jetty.addConnector((server, http) -> {
          Connector c = l.connector(server, http);
          if (c instanceof AbstractConnector ac) {
            ac.setIdleTimeout(options.idleTimeout().toMillis());
          }
          synchronized (connectors) {
            connectors.add(c);
          }
          return c;
        });
      }
      for (Endpoint e : table) {
        for (HandlerType m : List.of(HandlerType.POST, HandlerType.GET, HandlerType.PUT)) {
          cfg.routes.addHttpHandler(m, e.path(), ctx -> serve(e, ctx));
        }
      }
      cfg.routes.error(404, ctx -> {
        String msg = "unknown endpoint " + ctx.method() + " " + ctx.path();
        LOG.debug("{}", msg);
        ctx.contentType(Exchange.JSON_TYPE)
            .result(Wire.MAPPER.writeValueAsString(new Wire.ErrorResponse(msg)).getBytes(StandardCharsets.UTF_8));
      });
    });
    try {
      app.start();
    } catch (RuntimeException e) {
      throw new IOException("cannot start the plugin server on " + describe() + ": " + ErrorReplies.describe(e), e);
    }
    for (Listener l : listeners) {
      l.publish();
      LOG.info("listening on {}", l.describe());
    }
  }

  private void serve(Endpoint endpoint, Context ctx) {
    String method = endpoint.path().substring(1);
    Exchange ex = new Exchange(ctx, method);
    long t0 = System.nanoTime();
    if (!inFlight.enter()) {
      ErrorReplies.reply(ex, method, new ProtocolException(method + ": the plugin is shutting down"));
      return;
    }
    try {
      endpoint.serve(ex, driver);
      if (LOG.isDebugEnabled()) {
        LOG.debug("{} {} ok in {} ms", method, ex.summary(), (System.nanoTime() - t0) / 1_000_000);
      }
    } catch (Throwable t) {
      ErrorReplies.reply(ex, method + " " + ex.summary(), t);
      if (t instanceof VirtualMachineError vme) {
        throw vme;
      }
    } finally {
      inFlight.exit();
    }
  }

  /**
   * Stops: no new connections, in-flight requests get up to {@link Options#stopGrace()} to finish, then Jetty stops
   * and the listeners are unpublished (socket and spec files removed). Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    synchronized (connectors) {
      for (Connector c : connectors) {
        if (c instanceof AbstractConnector ac) {
          ac.setAccepting(false);
        }
      }
    }
    for (Listener l : listeners) {
      l.unpublish();
    }
    if (!inFlight.drain(options.stopGrace())) {
      LOG.warn("stopping with {} request(s) still running after {} s", inFlight.count(),
          options.stopGrace().toSeconds());
    }
    if (app != null) {
      try {
        app.stop();
      } catch (RuntimeException e) {
        LOG.warn("stopping the HTTP server: {}", ErrorReplies.describe(e));
      }
    }
    for (Listener l : listeners) {
      l.unpublish();
    }
    LOG.info("stopped listening on {}", describe());
  }

  private String describe() {
    return String.join(", ", listeners.stream().map(Listener::describe).toList());
  }

  /** Counts running requests; once closing, refuses new ones and lets {@link #drain} wait for zero. */
  private static final class InFlight {
    private int count;
    private boolean closing;

    synchronized boolean enter() {
      if (closing) {
        return false;
      }
      count++;
      return true;
    }

    synchronized void exit() {
      if (--count == 0) {
        notifyAll();
      }
    }

    synchronized int count() {
      return count;
    }

    synchronized boolean drain(Duration grace) {
      closing = true;
      long deadline = System.nanoTime() + grace.toNanos();
      while (count > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return true;
    }
  }
}
