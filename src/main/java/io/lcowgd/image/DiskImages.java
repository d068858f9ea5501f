package io.lcowgd.image;

import io.lcowgd.disk.DiskReader;
import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.vhd.VhdFooter;
import io.lcowgd.vhdx.VhdxFormat;
import io.lcowgd.vhdx.VhdxReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Opens the virtual disk inside an image file, choosing the container format from the bytes (never the name): a VHDX
 * file identifier at offset 0, a fixed-VHD footer in the last 512 bytes, otherwise a raw image.
 */
public final class DiskImages {
  private static final int FOOTER = VhdFooter.SIZE;

  private DiskImages() {}

  /** Detects the container format of {@code path} from its first bytes and its last 512 bytes. */
  public static ContainerType detect(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size >= 8 && VhdxFormat.FILE_SIGNATURE.equals(ascii(read(ch, 0, 8)))) {
        return ContainerType.VHDX;
      }
      if (size >= FOOTER && Arrays.equals(VhdFooter.COOKIE, read(ch, size - FOOTER, VhdFooter.COOKIE.length))) {
        return ContainerType.VHD_FIXED;
      }
      return ContainerType.RAW;
    }
  }

  /**
   * Opens the virtual disk of {@code path}: the whole file for a raw image, the payload before the validated footer
   * for a fixed VHD, the virtual disk (mapped through its BAT) for a VHDX.
   */
  public static DiskReader open(Path path) throws IOException {
    ContainerType type = detect(path);
    switch (type) {
      case RAW:
        return FileRangeDisk.open(path);
      case VHD_FIXED:
        return FileRangeDisk.open(path, 0, vhdPayloadSize(path));
      case VHDX:
        return VhdxReader.open(path);
      default:
        throw new IllegalStateException("unhandled container type " + type);
    }
  }

  /** Validates the fixed-VHD footer of {@code path} and returns the size of the disk before it. */
  static long vhdPayloadSize(Path path) throws IOException {
    return VhdFooter.readFixed(path).currentSize();
  }

  private static byte[] read(FileChannel ch, long pos, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new IOException("unexpected end of file at " + (pos + b.position()));
      }
    }
    return b.array();
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }
}
