package io.lcowgd.protocol.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.config.HostPort;
import io.lcowgd.protocol.PluginServer;
import io.lcowgd.testing.RawHttp;
import io.lcowgd.testing.RecordingDriver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unix socket and TCP listeners: stale sockets, live instances, permissions, spec files, loopback rule. */
class ListenerTest {
  @TempDir Path tmp;
  final RecordingDriver driver = new RecordingDriver();

  private PluginServer unix(Path socket, Optional<String> group) throws IOException {
    return PluginServer.start(driver, List.of(new UnixSocketListener(socket, group)));
  }

  private static int activate(Path socket) throws IOException {
    try (RawHttp c = RawHttp.unix(socket)) {
      return c.call("Plugin.Activate", null).status();
    }
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void createsTheParentDirectoryListensWithMode0600AndRemovesTheSocketOnStop() throws IOException {
    Path socket = tmp.resolve("run/docker/plugins/lcow.sock");
    try (PluginServer s = unix(socket, Optional.empty())) {
      assertEquals(200, activate(socket));
      assertEquals("rw-------", mode(socket));
      try (var files = Files.list(socket.getParent())) {
        assertEquals(List.of(socket), files.toList(), "no temporary bind name left next to the socket");
      }
    }
    assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aSocketGroupGetsMode0660AndTheGroup() throws IOException {
    Assumptions.assumeTrue(Files.readString(Path.of("/etc/group")).contains("\ndaemon:"), "needs group daemon");
    Path socket = tmp.resolve("gd.sock");
    try (PluginServer s = unix(socket, Optional.of("daemon"))) {
      assertEquals("rw-rw----", mode(socket));
      assertEquals("daemon", Files.getAttribute(socket, "posix:group", LinkOption.NOFOLLOW_LINKS).toString());
      assertEquals(200, activate(socket));
    }
  }

  @Test
  void anUnknownGroupFailsTheStartAndLeavesNothingBehind() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    IOException e = assertThrows(IOException.class, () -> unix(socket, Optional.of("no-such-group-xyz")));
    assertTrue(e.getMessage().contains("unknown group 'no-such-group-xyz'"), e.getMessage());
    try (var files = Files.list(tmp)) {
      assertEquals(List.of(), files.toList());
    }
  }

  @Test
  void aStaleSocketNobodyAnswersIsReplaced() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    try (ServerSocketChannel old = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      old.bind(UnixDomainSocketAddress.of(socket));
    }
    assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "closing a unix server channel leaves its file");
    try (PluginServer s = unix(socket, Optional.empty())) {
      assertEquals(200, activate(socket));
    }
  }

  @Test
  void aLiveSocketIsNeverDeletedAndTheStartIsRefused() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      live.bind(UnixDomainSocketAddress.of(socket));
      IOException e = assertThrows(IOException.class, () -> unix(socket, Optional.empty()));
      assertTrue(e.getMessage().contains("another process is listening on it"), e.getMessage());
      assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
      try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
        assertTrue(c.isConnected(), "the other instance still answers");
      }
    }
  }

  @Test
  void aSecondServerOnTheSamePathIsRefusedAndTheFirstKeepsServing() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    try (PluginServer first = unix(socket, Optional.empty())) {
      IOException e = assertThrows(IOException.class, () -> unix(socket, Optional.empty()));
      assertTrue(e.getMessage().contains("refusing to start"), e.getMessage());
      assertEquals(200, activate(socket));
    }
    assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aFileThatIsNotASocketIsNotReplaced() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    Files.writeString(socket, "precious");
    IOException e = assertThrows(IOException.class, () -> unix(socket, Optional.empty()));
    assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
    assertEquals("precious", Files.readString(socket));
  }

  @Test
  void stoppingDoesNotDeleteASocketThatIsNoLongerOurs() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    PluginServer s = unix(socket, Optional.empty());
    Files.delete(socket);
    try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      other.bind(UnixDomainSocketAddress.of(socket));
      s.close();
      assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "another instance's socket survives our stop");
    }
  }

  @Test
  void tcpOnLoopbackWritesAndRemovesTheSpecFile() throws IOException {
    Path spec = tmp.resolve("etc/docker/plugins/lcow.spec");
    TcpListener tcp = new TcpListener(new HostPort("127.0.0.1", 0), false, Optional.of(spec));
    try (PluginServer s = PluginServer.start(driver, List.of(tcp))) {
      int port = tcp.localPort();
      assertTrue(port > 0);
      assertEquals("tcp://127.0.0.1:" + port + "\n", Files.readString(spec));
      try (RawHttp c = RawHttp.tcp(new InetSocketAddress("127.0.0.1", port))) {
        byte[] body = "{}\n".getBytes(StandardCharsets.US_ASCII);
        c.send(("POST /GraphDriver.Status HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUser-Agent: Go-http-client/1.1"
            + "\r\nContent-Length: 3\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\nAccept-Encoding: gzip"
            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        c.send(body);
        RawHttp.Response r = c.read();
        assertEquals(200, r.status());
        assertEquals(null, r.header("content-encoding"), "no gzip over TCP either");
        assertTrue(r.text().startsWith("{\"Status\":"));
      }
    }
    assertFalse(Files.exists(spec));
  }

  @Test
  void unixAndTcpTogether() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    TcpListener tcp = new TcpListener(new HostPort("127.0.0.1", 0), false, Optional.empty());
    try (PluginServer s = PluginServer.start(driver,
        List.of(new UnixSocketListener(socket, Optional.empty()), tcp))) {
      assertEquals(200, activate(socket));
      try (RawHttp c = RawHttp.tcp(new InetSocketAddress("127.0.0.1", tcp.localPort()))) {
        assertEquals(200, c.call("Plugin.Activate", null).status());
      }
    }
  }

  @Test
  void nonLoopbackTcpIsRefusedUnlessAllowed() throws IOException {
    TcpListener open = new TcpListener(new HostPort("0.0.0.0", 0), false, Optional.empty());
    IOException e = assertThrows(IOException.class, () -> PluginServer.start(driver, List.of(open)));
    assertTrue(e.getMessage().contains("not a loopback address") && e.getMessage().contains("--tcp-allow-remote"),
        e.getMessage());
    TcpListener allowed = new TcpListener(new HostPort("0.0.0.0", 0), true, Optional.empty());
    try (PluginServer s = PluginServer.start(driver, List.of(allowed))) {
      assertTrue(allowed.localPort() > 0);
    }
  }

  @Test
  void aTakenTcpPortFailsTheStartCleanly() throws IOException {
    Path socket = tmp.resolve("gd.sock");
    try (ServerSocketChannel taken = ServerSocketChannel.open()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      int port = ((InetSocketAddress) taken.getLocalAddress()).getPort();
      TcpListener tcp = new TcpListener(new HostPort("127.0.0.1", port), false, Optional.empty());
      IOException e = assertThrows(IOException.class, () -> PluginServer.start(driver,
          List.of(new UnixSocketListener(socket, Optional.empty()), tcp)));
      assertTrue(e.getMessage().contains("cannot start the plugin server"), e.getMessage());
    }
    assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the unix socket is not left behind");
  }
}
