package io.lcowgd.config;

/**
 * A TCP listen address from {@code --tcp HOST:PORT} ({@code [::1]:PORT} for IPv6 literals); port 0 picks a free one.
 *
 * @param host a host name or IP literal (without brackets)
 * @param port 0-65535
 */
public record HostPort(String host, int port) {

  public HostPort {
    if (host == null || host.isEmpty()) {
      throw new ConfigException("--tcp: empty host");
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException("--tcp " + host + ":" + port + ": port outside 0-65535");
    }
  }

  /** Parses {@code HOST:PORT} or {@code [V6]:PORT}. */
  public static HostPort parse(String text) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new ConfigException("--tcp " + text + ": expected HOST:PORT, e.g. 127.0.0.1:17777");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw new ConfigException("--tcp " + text + ": write IPv6 addresses in brackets, e.g. [::1]:17777");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new ConfigException("--tcp " + text + ": port is not a number", e);
    }
    return new HostPort(host, port);
  }

  /** {@code host:port}, with brackets around IPv6 literals. */
  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
