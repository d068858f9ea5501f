package io.lcowgd.protocol;

import io.lcowgd.protocol.transport.UnixSocketListener;
import io.lcowgd.testing.RecordingDriver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link PluginServer} serving a fresh {@link RecordingDriver} on {@code <tmp>/gd.sock} for each test, closed after
 * it (a subclass's own {@code @AfterEach} runs first).
 */
abstract class ServedDriverFixture {
  @TempDir Path tmp;
  RecordingDriver driver;
  PluginServer server;
  Path socket;

  @BeforeEach
  void startServer() throws IOException {
    driver = new RecordingDriver();
    socket = tmp.resolve("gd.sock");
    server = PluginServer.start(driver, List.of(new UnixSocketListener(socket, Optional.empty())));
  }

  @AfterEach
  void stopServer() {
    server.close();
  }
}
