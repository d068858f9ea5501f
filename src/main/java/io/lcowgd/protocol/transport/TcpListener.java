package io.lcowgd.protocol.transport;

import io.lcowgd.config.HostPort;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A TCP listener, loopback-only unless explicitly allowed (the protocol has no authentication), optionally announced
 * to dockerd by a spec file holding {@code tcp://HOST:PORT} (legacy discovery reads {@code /etc/docker/plugins/<name>
 * .spec}). The spec file is written once the port is known (so port 0 works) and removed on stop if unchanged.
 */
public final class TcpListener implements Listener {
  private final HostPort address;
  private final boolean allowRemote;
  private final Optional<Path> specFile;
  private volatile ServerConnector connector;
  private volatile String specContent;

  /**
   * A listener on {@code address}; {@code allowRemote} permits non-loopback addresses; {@code specFile}, when
   * present, is written on publish.
   */
  public TcpListener(HostPort address, boolean allowRemote, Optional<Path> specFile) {
    this.address = Objects.requireNonNull(address, "address");
    this.allowRemote = allowRemote;
    this.specFile = Objects.requireNonNull(specFile, "specFile");
  }

  @Override
  public void prepare() throws IOException {
    InetAddress ip;
    try {
      ip = InetAddress.getByName(address.host());
    } catch (UnknownHostException e) {
      throw new IOException("--tcp " + address + ": unknown host", e);
    }
    if (!ip.isLoopbackAddress() && !allowRemote) {
      throw new IOException("--tcp " + address + ": " + ip.getHostAddress() + " is not a loopback address; the "
          + "plugin protocol has no authentication, so pass --tcp-allow-remote to listen there anyway");
    }
    if (specFile.isPresent()) {
      Files.createDirectories(specFile.get().toAbsolutePath().getParent());
    }
  }

  @Override
  public Connector connector(Server server, HttpConfiguration http) {
    ServerConnector c = new ServerConnector(server, new BlankHostConnectionFactory(http));
    c.setHost(address.host());
    c.setPort(address.port());
    c.setReuseAddress(true);
    connector = c;
    return c;
  }

  @Override
  public void publish() throws IOException {
    if (specFile.isEmpty()) {
      return;
    }
    String content = "tcp://" + new HostPort(address.host(), localPort()) + "\n";
    Path spec = specFile.get();
    Path tmp = spec.resolveSibling("." + spec.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, spec, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    specContent = content;
  }

  @Override
  public void unpublish() {
    String content = specContent;
    specContent = null;
    if (content == null) {
      return;
    }
    try {
      Path spec = specFile.orElseThrow();
      if (Files.exists(spec) && Files.readString(spec, StandardCharsets.UTF_8).equals(content)) {
        Files.delete(spec);
      }
    } catch (IOException e) {
      // Nothing useful to do at shutdown; a stale spec file only makes dockerd retry its connect.
    }
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int localPort() {
    ServerConnector c = connector;
    return c == null || c.getLocalPort() <= 0 ? address.port() : c.getLocalPort();
  }

  /** The bound address. */
  public InetSocketAddress localAddress() {
    return new InetSocketAddress(address.host(), localPort());
  }

  /** The spec file this listener writes, if any. */
  public Optional<Path> specFile() {
    return specFile;
  }

  @Override
  public String describe() {
    return "tcp:" + new HostPort(address.host(), localPort())
        + specFile.map(p -> " (spec " + p + ")").orElse("");
  }
}
