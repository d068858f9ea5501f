package io.lcowgd.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A byte-exact HTTP/1.1 client over a unix (or TCP) socket, for requests exactly as dockerd writes them (empty {@code
 * Host:}, no {@code Content-Type}, {@code \n}-terminated JSON, chunked bodies) and for seeing exactly how a response
 * ended (clean final chunk or an aborted connection). One instance is one connection; requests can be repeated on it
 * (keep-alive).
 */
public final class RawHttp implements AutoCloseable {
  private final SocketChannel ch;
  private final InputStream in;
  private final OutputStream out;

  private RawHttp(SocketChannel ch) {
    this.ch = ch;
    this.in = new java.io.BufferedInputStream(Channels.newInputStream(ch), 65536);
    this.out = Channels.newOutputStream(ch);
  }

  /** Connects to a unix socket. */
  public static RawHttp unix(Path socket) throws IOException {
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    ch.connect(UnixDomainSocketAddress.of(socket));
    return new RawHttp(ch);
  }

  /** Connects to a TCP address. */
  public static RawHttp tcp(SocketAddress address) throws IOException {
    return new RawHttp(SocketChannel.open(address));
  }

  /** The head dockerd 20.10.24 sends on a unix socket for {@code POST /<method>} with a body of {@code length}. */
  public static String dockerHead(String method, long length) {
    return "POST /" + method + " HTTP/1.1\r\n"
        + "Host: \r\n"
        + "User-Agent: Go-http-client/1.1\r\n"
        + "Content-Length: " + length + "\r\n"
        + "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
        + "\r\n";
  }

  /** Sends a JSON call as dockerd does ({@code body} gets Go's trailing newline unless null) and reads the reply. */
  public Response call(String method, String body) throws IOException {
    byte[] b = body == null ? new byte[0] : (body + "\n").getBytes(StandardCharsets.UTF_8);
    send(dockerHead(method, b.length).getBytes(StandardCharsets.US_ASCII));
    send(b);
    return read();
  }

  /** Writes raw bytes. */
  public void send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Writes one chunk of a chunked body ({@code len == 0} writes the final chunk). */
  public void sendChunk(byte[] data, int off, int len) throws IOException {
    ByteBuffer head = ByteBuffer.wrap((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    while (head.hasRemaining()) {
      ch.write(head);
    }
    ByteBuffer body = ByteBuffer.wrap(data, off, len);
    while (body.hasRemaining()) {
      ch.write(body);
    }
    ByteBuffer crlf = ByteBuffer.wrap("\r\n".getBytes(StandardCharsets.US_ASCII));
    while (crlf.hasRemaining()) {
      ch.write(crlf);
    }
  }

  /** A response, with how its body ended. */
  public record Response(int status, Map<String, String> headers, byte[] body, boolean complete, String failure) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Reads one response; a body cut short is reported with {@code complete == false}, not thrown. */
  public Response read() throws IOException {
    String status = line();
    if (status == null) {
      throw new EOFException("connection closed before a status line");
    }
    String[] parts = status.split(" ", 3);
    int code = Integer.parseInt(parts[1]);
    Map<String, String> headers = new TreeMap<>();
    for (String l; (l = line()) != null && !l.isEmpty(); ) {
      int c = l.indexOf(':');
      headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    boolean complete;
    String failure = null;
    try {
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        complete = readChunked(body);
      } else if (headers.containsKey("content-length")) {
        long n = Long.parseLong(headers.get("content-length"));
        complete = copy(body, n) == n;
      } else {
        in.transferTo(body);
        complete = true;
      }
    } catch (IOException e) {
      complete = false;
      failure = e.toString();
    }
    return new Response(code, headers, body.toByteArray(), complete, failure);
  }

  /** Reads a chunked body; returns whether the final zero chunk arrived. */
  private boolean readChunked(ByteArrayOutputStream body) throws IOException {
    while (true) {
      String size = line();
      if (size == null) {
        return false;
      }
      int semi = size.indexOf(';');
      long n = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) {
        for (String l; (l = line()) != null && !l.isEmpty(); ) {
          // trailers
        }
        return true;
      }
      if (copy(body, n) != n) {
        return false;
      }
      if (line() == null) {
        return false;
      }
    }
  }

  /** Copies up to {@code n} body bytes into {@code sink}; returns how many arrived before the connection ended. */
  private long copy(OutputStream sink, long n) throws IOException {
    byte[] buf = new byte[65536];
    long done = 0;
    while (done < n) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
      if (r < 0) {
        break;
      }
      sink.write(buf, 0, r);
      done += r;
    }
    return done;
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) >= 0; ) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
