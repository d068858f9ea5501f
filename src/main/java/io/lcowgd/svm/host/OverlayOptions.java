package io.lcowgd.svm.host;

import io.lcowgd.svm.UnionSpec;
import java.nio.charset.StandardCharsets;

/**
 * Builds overlayfs mount data ({@code lowerdir=a:b[,upperdir=u,workdir=w]}). The kernel copies mount data into one
 * page, so the string must stay below 4096 bytes: that is why attachments are mounted at short paths.
 */
final class OverlayOptions {
  /** The kernel's limit: one page including the terminating NUL. */
  static final int MAX_BYTES = 4095;

  private OverlayOptions() {}

  /**
   * The option string for {@code spec}, whose lowers must be non-empty; throws {@link IllegalArgumentException}
   * naming the length if it does not fit in a page.
   */
  static String of(UnionSpec spec) {
    StringBuilder sb = new StringBuilder("lowerdir=");
    sb.append(String.join(":", spec.lowers()));
    if (spec.writable()) {
      sb.append(",upperdir=").append(spec.upper()).append(",workdir=").append(spec.work());
    }
    String s = sb.toString();
    int bytes = s.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new IllegalArgumentException(
          "overlay options for " + spec.target() + " are " + bytes + " bytes for " + spec.lowers().size()
              + " lower layers; the kernel accepts at most " + MAX_BYTES);
    }
    return s;
  }
}
