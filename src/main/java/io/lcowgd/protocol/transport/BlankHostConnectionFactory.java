package io.lcowgd.protocol.transport;

import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.internal.HttpConnection;

/**
 * HTTP/1.1 that accepts an empty {@code Host:} header.
 *
 * <p>dockerd builds made with Go 1.19.10/1.20.5 or older (Debian 12's 20.10.24 among them) send {@code Host: } with no
 * value on unix sockets, and Jetty 12 rejects that with "400 Blank Host" before any handler runs, with no compliance
 * switch to turn it off. This factory replaces a blank {@code Host} field, while the request head is parsed, with
 * {@code plugin.moby.localhost} (what newer dockerd builds send; dropping the field instead fails with "No Host" or
 * with the socket path as a bad authority). Nothing else about
 * parsing changes.
 */
final class BlankHostConnectionFactory extends HttpConnectionFactory {
  /** What a blank {@code Host} becomes: the name dockerd 20.10.26+ sends on unix sockets. */
  static final HostPortHttpField STAND_IN_HOST = new HostPortHttpField("plugin.moby.localhost");

  BlankHostConnectionFactory(HttpConfiguration config) {
    super(config);
  }

  @Override
  public Connection newConnection(Connector connector, EndPoint endPoint) {
    HttpConnection connection = new HttpConnection(getHttpConfiguration(), connector, endPoint) {
      @Override
      protected HttpStreamOverHTTP1 newHttpStream(String method, String uri, HttpVersion version) {
        return new HttpStreamOverHTTP1(method, uri, version) {
          @Override
          public void parsedHeader(HttpField field) {
            if (field.getHeader() == HttpHeader.HOST && (field.getValue() == null || field.getValue().isBlank())) {
              super.parsedHeader(STAND_IN_HOST);
              return;
            }
            super.parsedHeader(field);
          }
        };
      }
    };
    connection.setTransferEncodingChunkMaxLength(getTransferEncodingChunkMaxLength());
    return configure(connection, connector, endPoint);
  }
}
