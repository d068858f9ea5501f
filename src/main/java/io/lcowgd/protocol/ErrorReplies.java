package io.lcowgd.protocol;

import io.lcowgd.graphdriver.GraphDriverException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become replies: every exception is answered with HTTP 500 and {@code {"Err":
 * message}} (dockerd treats any non-200 as an error and prints {@code "<Method>: <Err>"}), and logged once here.
 */
final class ErrorReplies {
  private ErrorReplies() {}

  private static final Logger LOG = LoggerFactory.getLogger(PluginServer.class);

  /** Replies to a failed request and logs it; {@code detail} names the request (method and ids). */
  static void reply(Exchange ex, String detail, Throwable failure) {
    String message = describe(failure);
    if (failure instanceof GraphDriverException g && g.category() != GraphDriverException.Category.INTERNAL) {
      LOG.warn("{} failed ({}): {}", detail, g.category(), message);
    } else if (failure instanceof ProtocolException) {
      LOG.warn("{} rejected: {}", detail, message);
    } else {
      LOG.error("{} failed: {}", detail, message, failure);
    }
    try {
      if (ex.committed()) {
        ex.abort(failure);
      } else {
        ex.resetReply();
        ex.replyJson(500, new Wire.ErrorResponse(message));
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("{}: could not send the error reply: {}", detail, e.toString());
    }
  }

  /**
   * The {@code Err} text for a failure: the messages along the cause chain, each once. Graph-driver errors and plain
   * {@link IOException}s are written for users already; other exception types are prefixed with their simple class
   * name (a bare {@code NoSuchFileException} message is just a path).
   */
  static String describe(Throwable failure) {
    if (failure instanceof ProtocolException) {
      // Its message already says what was wrong with the request; the parser's cause only adds noise.
      return failure.getMessage().replace('\n', ' ');
    }
    StringBuilder sb = new StringBuilder();
    for (Throwable t = failure; t != null && sb.length() < 4000; t = t.getCause()) {
      String m = t.getMessage();
      boolean plain = t instanceof GraphDriverException || t instanceof ProtocolException
          || t.getClass() == IOException.class;
      String part = m == null || m.isBlank() ? t.getClass().getSimpleName()
          : plain ? m : t.getClass().getSimpleName() + ": " + m;
      if (m != null && sb.indexOf(m) >= 0) {
        continue;
      }
      if (sb.length() > 0) {
        sb.append(": ");
      }
      sb.append(part);
      if (t.getCause() == t) {
        break;
      }
    }
    return sb.toString().replace('\n', ' ');
  }
}
