package io.lcowgd.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;

/**
 * One request/response pair as the endpoints see it: JSON in and out, the raw request body, the raw response stream,
 * and connection abort. Hides Javalin and the servlet API from the endpoint table.
 */
final class Exchange {
  /** The content type of every JSON reply (dockerd ignores it; this is what it sends in {@code Accept}). */
  static final String JSON_TYPE = "application/vnd.docker.plugins.v1.2+json";

  /** Upper bound for a JSON request body; dockerd's are a few hundred bytes. */
  static final int MAX_JSON_BODY = 1 << 20;

  private final Context ctx;
  private final String method;
  private volatile String summary = "";

  Exchange(Context ctx, String method) {
    this.ctx = ctx;
    this.method = method;
  }

  /** The endpoint name, e.g. {@code GraphDriver.Get}. */
  String method() {
    return method;
  }

  /**
   * Decodes the JSON body into {@code type}; an empty body counts as {@code {}} (curl without {@code -d}), and a
   * request with a layer id must name one.
   */
  <T> T readJson(Class<T> type) throws IOException {
    byte[] body = readBounded(ctx.req().getInputStream());
    String text = new String(body, StandardCharsets.UTF_8);
    T value;
    try {
      value = Wire.MAPPER.readValue(text.isBlank() ? "{}" : text, type);
    } catch (JsonProcessingException e) {
      throw new ProtocolException("cannot decode the " + method + " request body as JSON: "
          + e.getOriginalMessage(), e);
    }
    if (value == null) {
      throw new ProtocolException("the " + method + " request body is JSON null, expected an object");
    }
    summary = value.toString();
    if (value instanceof Wire.HasId r && r.id().isEmpty()) {
      throw new ProtocolException(method + ": missing layer ID in the request body");
    }
    return value;
  }

  /** What the request asked for (decoded body or query), for logs. */
  String summary() {
    String q = ctx.req().getQueryString();
    return q != null && summary.isEmpty() ? "?" + q : summary;
  }

  /** A query parameter, percent-decoded (dockerd does not escape ids, so a plain value passes unchanged). */
  Optional<String> query(String name) {
    String q = ctx.req().getQueryString();
    if (q == null) {
      return Optional.empty();
    }
    for (String part : q.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      if (k.equals(name)) {
        return Optional.of(percentDecode(eq < 0 ? "" : part.substring(eq + 1)));
      }
    }
    return Optional.empty();
  }

  /** The raw request body; the caller reads it as a stream (never buffered here). */
  InputStream body() throws IOException {
    return ctx.req().getInputStream();
  }

  /** Sends a complete JSON reply with {@code status}. */
  void replyJson(int status, Object value) throws IOException {
    byte[] bytes = Wire.MAPPER.writeValueAsBytes(value);
    HttpServletResponse res = ctx.res();
    res.setStatus(status);
    res.setContentType(JSON_TYPE);
    res.setContentLengthLong(bytes.length);
    OutputStream out = res.getOutputStream();
    out.write(bytes);
    out.flush();
  }

  /** Starts a raw 200 reply of {@code contentType}, sent chunked, and returns its body stream. */
  OutputStream startRaw(String contentType) throws IOException {
    HttpServletResponse res = ctx.res();
    res.setStatus(200);
    res.setContentType(contentType);
    return res.getOutputStream();
  }

  /** Whether any part of the reply (status line, headers) has gone out. */
  boolean committed() {
    return ctx.res().isCommitted();
  }

  /** Drops whatever reply was buffered but not sent, so an error reply can replace it. */
  void resetReply() {
    ctx.res().reset();
  }

  /** Aborts the connection: the client sees a truncated reply (no final chunk), never a clean end. */
  void abort(Throwable cause) {
    ServletContextRequest scr = ServletContextRequest.getServletContextRequest(ctx.req());
    if (scr != null) {
      // Closing the endpoint (rather than ServletChannel.abort) cuts the connection just as hard, and leaves the
      // servlet state alone so Javalin's own completion does not log a second, confusing error.
      scr.getServletChannel().getEndPoint().close(cause);
    } else {
      throw new IllegalStateException("cannot abort: not a Jetty request", cause);
    }
  }

  private byte[] readBounded(InputStream in) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    byte[] chunk = new byte[8192];
    for (int n; (n = in.read(chunk)) >= 0; ) {
      if (buf.size() + n > MAX_JSON_BODY) {
        throw new ProtocolException(method + ": request body larger than " + MAX_JSON_BODY + " bytes");
      }
      buf.write(chunk, 0, n);
    }
    return buf.toByteArray();
  }

  private static String percentDecode(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); ) {
      if (s.charAt(i) == '%' && i + 2 < s.length()
          && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
        out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
        i += 3;
      } else {
        int cp = s.codePointAt(i);
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
        i += Character.charCount(cp);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
