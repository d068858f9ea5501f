package io.lcowgd.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.protocol.transport.UnixSocketListener;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.RecordingDriver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The idle timeout reaches Jetty, and the default is long enough for slow streams and slow driver calls. */
class IdleTimeoutTest {
  @TempDir Path tmp;

  @Test
  void theDefaultIdleTimeoutIsAnHour() {
    assertEquals(Duration.ofHours(1), PluginServer.Options.DEFAULTS.idleTimeout());
  }

  /** Sends an ApplyDiff that pauses {@code pauseMs} between two chunks; returns the driver's failure, if any. */
  private Throwable pausedApplyDiff(PluginServer.Options options, long pauseMs) throws Exception {
    RecordingDriver driver = new RecordingDriver();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    driver.on("applyDiff", a -> {
      try {
        return (long) ((InputStream) a[2]).readAllBytes().length;
      } catch (IOException e) {
        failure.set(e);
        throw e;
      }
    });
    Path socket = tmp.resolve("gd" + pauseMs + options.idleTimeout().toMillis() + ".sock");
    try (PluginServer s = PluginServer.start(driver, List.of(new UnixSocketListener(socket, Optional.empty())),
        options);
        RawHttp c = RawHttp.unix(socket)) {
      c.send(StreamingTest.applyDiffHead("slow", ""));
      byte[] data = new byte[1000];
      c.sendChunk(data, 0, data.length);
      Thread.sleep(pauseMs);
      try {
        c.sendChunk(data, 0, data.length);
        c.sendChunk(data, 0, 0);
        RawHttp.Response r = c.read();
        if (failure.get() == null) {
          assertEquals("{\"Size\":2000}", r.text());
        }
      } catch (IOException closedByServer) {
        // expected when the server gave up on the connection
      }
    }
    return failure.get();
  }

  @Test
  void aStreamPausingLongerThanTheIdleTimeoutIsCutAndOneWithinItIsNot() throws Exception {
    PluginServer.Options shortIdle = new PluginServer.Options(Duration.ofMillis(500), Duration.ofSeconds(1), 16);
    Throwable cut = pausedApplyDiff(shortIdle, 1500);
    assertTrue(cut != null, "a 1.5 s pause with a 0.5 s idle timeout must fail the read");
    Throwable fine = pausedApplyDiff(PluginServer.Options.DEFAULTS, 1500);
    assertEquals(null, fine, "the default idle timeout tolerates the pause");
  }
}
