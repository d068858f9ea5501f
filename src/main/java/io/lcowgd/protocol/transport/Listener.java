package io.lcowgd.protocol.transport;

import io.lcowgd.config.ServeConfig;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;

/** One transport the plugin server listens on; see the package documentation for the lifecycle. */
public interface Listener {

  /** Checks and clears the way before the server starts; fails with a message naming the address. */
  void prepare() throws IOException;

  /** Creates the Jetty connector for this transport (called once, while the server starts). */
  Connector connector(Server server, HttpConfiguration http);

  /** Makes the listening transport visible under its public name (called once the server listens). */
  void publish() throws IOException;

  /** Removes what {@link #publish} made, if it is still this process's; idempotent, never throws. */
  void unpublish();

  /** The address for humans and logs, e.g. {@code unix:/run/docker/plugins/lcow.sock}. */
  String describe();

  /** The listeners a {@code lcow serve} configuration asks for: the unix socket first, then TCP. */
  static List<Listener> forConfig(ServeConfig cfg) {
    List<Listener> out = new ArrayList<>();
    cfg.socket().ifPresent(p -> out.add(new UnixSocketListener(p, cfg.socketGroup())));
    cfg.tcp().ifPresent(t -> out.add(new TcpListener(t, cfg.tcpAllowRemote(), cfg.specFile())));
    return out;
  }
}
