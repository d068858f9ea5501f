package io.lcowgd.lcow;

import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.svm.PayloadRange;
import io.lcowgd.vhdx.Vhdx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Where the ext4 filesystem lies in a layer's image file, for attaching it with a loop device. */
final class ImagePayload {
  private static final int VHD_FOOTER = 512;

  private ImagePayload() {}

  /** The payload of {@code layer}'s image: {@code layer.vhd} minus its footer, or the VHDX payload. */
  static PayloadRange of(Layer layer) throws IOException {
    return layer.kind() == LayerKind.IMAGE ? ofVhd(layer.image()) : ofVhdx(layer.image());
  }

  static PayloadRange ofVhdx(Path vhdx) throws IOException {
    io.lcowgd.vhdx.PayloadRange r = Vhdx.payloadRange(vhdx);
    return new PayloadRange(r.offset(), r.length());
  }

  /** A fixed VHD: the file minus its last 512 bytes, which must be a footer ({@code conectix} cookie). */
  static PayloadRange ofVhd(Path vhd) throws IOException {
    try (FileChannel ch = FileChannel.open(vhd, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size <= VHD_FOOTER || size % 512 != 0) {
        throw new IOException(vhd + ": " + size + " bytes is not a fixed VHD (a multiple of 512 with a footer)");
      }
      ByteBuffer cookie = ByteBuffer.allocate(8);
      while (cookie.hasRemaining()) {
        if (ch.read(cookie, size - VHD_FOOTER + cookie.position()) < 0) {
          throw new IOException(vhd + ": truncated");
        }
      }
      String c = new String(cookie.array(), StandardCharsets.US_ASCII);
      if (!c.equals("conectix")) {
        throw new IOException(vhd + ": no fixed-VHD footer (cookie '" + c + "' instead of 'conectix')");
      }
      return new PayloadRange(0, size - VHD_FOOTER);
    }
  }
}
