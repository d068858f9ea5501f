package io.lcowgd;

import io.lcowgd.config.ServeConfig;
import io.lcowgd.graphdriver.Capabilities;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.graphdriver.TarStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link GraphDriver} whose real implementation is still being built: {@link #startBuilding} runs a {@link
 * DriverFactory} on a background thread, and every call waits for it, then delegates. If the factory failed, every
 * call fails with {@link GraphDriverException.Category#UNAVAILABLE} naming the cause. This lets {@code lcow serve}
 * listen before the driver exists.
 */
public final class DeferredDriver implements GraphDriver {
  private final CompletableFuture<GraphDriver> target = new CompletableFuture<>();
  private boolean started;

  /** A driver that waits for {@link #startBuilding}; calls made before it block until the driver exists. */
  public DeferredDriver() {}

  /**
   * Starts {@code factory.create(cfg)} on a daemon thread named {@code lcow-driver-start}; later calls are ignored.
   */
  public synchronized DeferredDriver startBuilding(DriverFactory factory, ServeConfig cfg) {
    if (started) {
      return this;
    }
    started = true;
    Thread t = new Thread(() -> {
      try {
        GraphDriver d = factory.create(cfg);
        if (d == null) {
          throw new IllegalStateException("the driver factory returned null");
        }
        target.complete(d);
      } catch (Throwable e) {
        target.completeExceptionally(e);
      }
    }, "lcow-driver-start");
    t.setDaemon(true);
    t.start();
    return this;
  }

  /** The future of the real driver, for callers that want to log its outcome. */
  public CompletableFuture<GraphDriver> target() {
    return target;
  }

  private GraphDriver driver() {
    try {
      return target.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String msg = cause.getMessage() == null ? cause.toString() : cause.getMessage();
      throw new GraphDriverException(GraphDriverException.Category.UNAVAILABLE,
          "the graph driver failed to start: " + msg, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GraphDriverException(GraphDriverException.Category.UNAVAILABLE,
          "interrupted while waiting for the graph driver to start", e);
    }
  }

  /** Closes the real driver if it was built and is {@link AutoCloseable}; waits at most {@code waitMillis} for it. */
  public void close(long waitMillis) throws Exception {
    GraphDriver d;
    try {
      d = target.get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      return;
    }
    if (d instanceof AutoCloseable c) {
      c.close();
    }
  }

  @Override
  public void init(String home, List<String> options, List<IdMap> uidMaps, List<IdMap> gidMaps) throws IOException {
    driver().init(home, options, uidMaps, gidMaps);
  }

  @Override
  public void create(String id, String parent, String mountLabel, Map<String, String> storageOpt) throws IOException {
    driver().create(id, parent, mountLabel, storageOpt);
  }

  @Override
  public void createReadWrite(String id, String parent, String mountLabel, Map<String, String> storageOpt)
      throws IOException {
    driver().createReadWrite(id, parent, mountLabel, storageOpt);
  }

  @Override
  public void remove(String id) throws IOException {
    driver().remove(id);
  }

  @Override
  public String get(String id, String mountLabel) throws IOException {
    return driver().get(id, mountLabel);
  }

  @Override
  public void put(String id) throws IOException {
    driver().put(id);
  }

  @Override
  public boolean exists(String id) throws IOException {
    return driver().exists(id);
  }

  @Override
  public List<StatusLine> status() throws IOException {
    return driver().status();
  }

  @Override
  public Map<String, String> getMetadata(String id) throws IOException {
    return driver().getMetadata(id);
  }

  @Override
  public void cleanup() throws IOException {
    driver().cleanup();
  }

  @Override
  public TarStream diff(String id, String parent) throws IOException {
    return driver().diff(id, parent);
  }

  @Override
  public List<Change> changes(String id, String parent) throws IOException {
    return driver().changes(id, parent);
  }

  @Override
  public long applyDiff(String id, String parent, InputStream tar) throws IOException {
    return driver().applyDiff(id, parent, tar);
  }

  @Override
  public long diffSize(String id, String parent) throws IOException {
    return driver().diffSize(id, parent);
  }

  @Override
  public Capabilities capabilities() {
    return driver().capabilities();
  }
}
