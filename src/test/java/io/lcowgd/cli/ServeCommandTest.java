package io.lcowgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.Main;
import io.lcowgd.Wiring;
import io.lcowgd.config.ServeConfig;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.RecordingDriver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lcow serve} in-process: listening before the driver exists, failing factories, closing the driver. */
class ServeCommandTest {
  @TempDir Path tmp;

  private ServeConfig cfg() {
    return ServeConfig.parse(List.of("--root", tmp.resolve("root").toString(), "--socket",
        tmp.resolve("gd.sock").toString()));
  }

  private String call(String method, String body) throws IOException {
    try (RawHttp c = RawHttp.unix(tmp.resolve("gd.sock"))) {
      RawHttp.Response r = c.call(method, body);
      return r.status() + " " + r.text();
    }
  }

  @Test
  void theSocketAnswersBeforeASlowDriverExistsAndCallsWaitForIt() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    RecordingDriver driver = new RecordingDriver();
    ServeConfig[] seen = new ServeConfig[1];
    try (ServeCommand.Running r = ServeCommand.start(cfg(), c -> {
      seen[0] = c;
      release.await();
      return driver;
    })) {
      assertEquals("200 {\"Implements\":[\"GraphDriver\"]}", call("Plugin.Activate", null));
      CompletableFuture<String> status = CompletableFuture.supplyAsync(() -> {
        try {
          return call("GraphDriver.Init", "{\"Home\":\"/h\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}");
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      Thread.sleep(300);
      assertFalse(status.isDone(), "Init waits for the driver");
      release.countDown();
      assertEquals("200 {}", status.get(10, TimeUnit.SECONDS));
      assertEquals(1, driver.calls("init").size());
      assertEquals(cfg(), seen[0], "the factory gets the parsed configuration");
    }
    assertFalse(Files.exists(tmp.resolve("gd.sock"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aFailingFactoryMakesEveryDriverCallFailWithItsMessage() throws Exception {
    try (ServeCommand.Running r = ServeCommand.start(cfg(), c -> {
      throw new IOException("cannot create /var/lib/lcow: read-only file system");
    })) {
      assertEquals("200 {\"Implements\":[\"GraphDriver\"]}", call("Plugin.Activate", null));
      assertEquals("500 {\"Err\":\"the graph driver failed to start: cannot create /var/lib/lcow: read-only file "
          + "system\"}", call("GraphDriver.Status", "{}"));
      assertEquals("500 {\"Err\":\"the graph driver failed to start: cannot create /var/lib/lcow: read-only file "
          + "system\"}", call("GraphDriver.Capabilities", "{}"));
    }
  }

  @Test
  void theBuildServesTheLcowDriverOnTheRoot() throws Exception {
    try (ServeCommand.Running r = ServeCommand.start(cfg(), Wiring.driverFactory())) {
      String reply = call("GraphDriver.Status", "{}");
      assertTrue(reply.startsWith("200 {\"Status\":[[\"Mode\",\"safe\"],[\"Root\",\"" + tmp.resolve("root")
          + "\"]"), reply);
    }
  }

  /** A driver that records being closed. */
  interface ClosableDriver extends GraphDriver, AutoCloseable {}

  @Test
  void stoppingClosesAnAutoCloseableDriverButDoesNotCallCleanup() throws Exception {
    AtomicBoolean closed = new AtomicBoolean();
    RecordingDriver rec = new RecordingDriver();
    GraphDriver closable = (GraphDriver) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ClosableDriver.class}, (p, m, a) -> {
          if (m.getName().equals("close")) {
            closed.set(true);
            return null;
          }
          return m.invoke(rec, a);
        });
    ServeCommand.Running r = ServeCommand.start(cfg(), c -> closable);
    assertEquals("200 {\"Dir\":\"/var/lib/lcow/mnt/x\"}", call("GraphDriver.Get", "{\"ID\":\"a\"}"));
    r.close();
    assertTrue(closed.get());
    assertTrue(rec.calls("cleanup").isEmpty(), "Cleanup is dockerd's to call");
    r.close(); // idempotent
  }

  @Test
  void badFlagsExitWith2AndUsage() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = Main.run(List.of("serve", "--opt", "lcow.bogus=1"), new PrintStream(new ByteArrayOutputStream()),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(2, rc);
    String text = err.toString(StandardCharsets.UTF_8);
    assertTrue(text.startsWith("lcow serve: --opt: option 'lcow.bogus=1': unknown key 'lcow.bogus'"), text);
    assertTrue(text.contains("--socket PATH"), text);
  }

  @Test
  void serveIsInTheCommandTable() {
    assertTrue(Commands.all().stream().anyMatch(c -> c.name().equals("serve")));
  }
}
