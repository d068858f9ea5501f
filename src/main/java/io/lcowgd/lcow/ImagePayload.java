package io.lcowgd.lcow;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.vhd.VhdFooter;
import io.lcowgd.vhdx.Vhdx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the ext4 filesystem lies in a layer's image file, for attaching it with a loop device or reading it: a
 * {@code layer.vhd} minus its validated 512-byte footer, or the contiguous payload of a {@code sandbox.vhdx}.
 *
 * <p>Image files never change size or layout after they appear (they are written under a staging name and linked
 * into place), so results are cached per path and file identity (inode): a Get of a 100-layer chain parses each
 * image once, not once per Get.
 */
final class ImagePayload {
  private static final Map<Path, Cached> CACHE = new ConcurrentHashMap<>();

  private record Cached(Object fileKey, PayloadRange range) {}

  private ImagePayload() {}

  /** The payload of {@code layer}'s image. */
  static PayloadRange of(Layer layer) throws IOException {
    Path image = layer.image();
    Object key = Files.readAttributes(image, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    Cached c = CACHE.get(image);
    if (c != null && Objects.equals(c.fileKey(), key)) {
      return c.range();
    }
    PayloadRange r = layer.kind() == LayerKind.IMAGE ? ofVhd(image) : ofVhdx(image);
    if (CACHE.size() > 100_000) {
      CACHE.clear();
    }
    CACHE.put(image, new Cached(key, r));
    return r;
  }

  static PayloadRange ofVhdx(Path vhdx) throws IOException {
    return Vhdx.payloadRange(vhdx);
  }

  /** A fixed VHD: the file minus its footer, which must be valid and describe that size. */
  static PayloadRange ofVhd(Path vhd) throws IOException {
    VhdFooter.readFixed(vhd);
    return new PayloadRange(0, Files.size(vhd) - VhdFooter.SIZE);
  }
}
