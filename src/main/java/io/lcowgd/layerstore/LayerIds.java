package io.lcowgd.layerstore;

import io.lcowgd.graphdriver.GraphDriverException;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** Validates layer ids before they become directory names. */
public final class LayerIds {
  /** Longest id in bytes, leaving room for the {@code -removing} and staging suffixes within NAME_MAX (255). */
  public static final int MAX_BYTES = 200;

  /** Names the store uses itself; no layer may take them. */
  public static final Set<String> RESERVED = Set.of("cache", "scratch", "mnt", "lost+found");

  static final String REMOVING_SUFFIX = "-removing";

  private LayerIds() {}

  /** Returns {@code id} if it can be a layer id; throws an INVALID_ARGUMENT {@link GraphDriverException} if not. */
  public static String check(String id) {
    if (id == null || id.isEmpty()) {
      throw GraphDriverException.invalidArgument("invalid layer id: empty");
    }
    String shown = printable(id);
    if (id.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      throw GraphDriverException.invalidArgument(
          "invalid layer id '" + shown.substring(0, Math.min(shown.length(), 40)) + "...': longer than " + MAX_BYTES
              + " bytes");
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c == '/' || c == '\\') {
        throw GraphDriverException.invalidArgument("invalid layer id '" + shown + "': contains a path separator");
      }
      if (c < 0x20 || c == 0x7f) {
        throw GraphDriverException.invalidArgument("invalid layer id '" + shown + "': contains a control character");
      }
    }
    if (id.startsWith(".")) {
      throw GraphDriverException.invalidArgument("invalid layer id '" + shown + "': starts with '.'");
    }
    if (RESERVED.contains(id) || id.endsWith(REMOVING_SUFFIX)) {
      throw GraphDriverException.invalidArgument("invalid layer id '" + shown + "': reserved name");
    }
    return id;
  }

  private static String printable(String id) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < id.length() && sb.length() < 300; i++) {
      char c = id.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
