package io.lcowgd.convert;

import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.ext4.Ext4Reader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Turns inodes into Docker layer tar entries with the overlay-to-AUFS translation of moby's
 * {@code overlayWhiteoutConverter.ConvertWrite}: a 0/0 character device {@code x} becomes an empty regular file
 * {@code .wh.x} (mode 0600, the device's owner and mtime); a directory with {@code trusted.overlay.opaque=y} is written
 * without that xattr and followed by {@code <dir>/.wh..wh..opq} (the directory's permissions, owner and mtime). Other
 * {@code trusted.overlay.*} xattrs (overlayfs bookkeeping) are dropped; the rest are written as
 * {@code SCHILY.xattr.*}. The second and later names of a multiply-linked non-directory become tar hard links to the
 * first name written. Sockets are skipped, as moby's tar writer does.
 */
final class LayerTarEmitter {
  static final String WHITEOUT_PREFIX = ".wh.";
  static final String OPAQUE_MARKER = ".wh..wh..opq";
  private static final byte[] Y = {'y'};
  private static final String OVERLAY_XATTRS = "trusted.overlay.";
  private static final String OPAQUE_XATTR = "trusted.overlay.opaque";

  private final PaxTarWriter w;
  private final Map<LinkKey, String> firstNames = new HashMap<>();

  private record LinkKey(Ext4Reader image, long inode) {}

  private final boolean opaqueMarkers;

  /** An emitter writing to {@code out}; {@code opaqueMarkers} false leaves out the {@code .wh..wh..opq} markers. */
  LayerTarEmitter(OutputStream out, boolean opaqueMarkers) {
    this.w = new PaxTarWriter(out);
    this.opaqueMarkers = opaqueMarkers;
  }

  /**
   * Writes the entry (or entries) for {@code ino} at relative path {@code path} (no leading or trailing slash; one
   * char per name byte, see {@link io.lcowgd.ext4.DirEntry#rawString()}).
   */
  void emit(String path, Ext4Reader image, Ext4Inode ino) throws IOException {
    if (ino.isWhiteout()) {
      whiteout(path, ino.uid(), ino.gid(), ino.mtime());
      return;
    }
    Map<String, byte[]> xattrs = new TreeMap<>(image.xattrs(ino));
    boolean opaque = isOpaque(xattrs);
    xattrs.keySet().removeIf(LayerTarEmitter::isOverlayXattr);
    int perm = ino.permissions();
    switch (ino.type()) {
      case Ext4Inode.S_IFDIR:
        header(path + "/", TarConstants.LF_DIR, perm, ino, 0, null, xattrs);
        w.end();
        if (opaqueMarkers && opaque) {
          header(path + "/" + OPAQUE_MARKER, TarConstants.LF_NORMAL, perm, ino, 0, null, Map.of());
          w.end();
        }
        return;
      case Ext4Inode.S_IFREG: {
        if (emittedAsHardLink(image, ino, path, perm, xattrs)) {
          return;
        }
        OutputStream data = header(path, TarConstants.LF_NORMAL, perm, ino, ino.size(), null, xattrs);
        image.copyData(ino, data);
        w.end();
        return;
      }
      case Ext4Inode.S_IFLNK:
        header(path, TarConstants.LF_SYMLINK, perm, ino, 0,
            new String(image.readLink(ino), StandardCharsets.ISO_8859_1), xattrs);
        w.end();
        return;
      case Ext4Inode.S_IFCHR:
      case Ext4Inode.S_IFBLK:
      case Ext4Inode.S_IFIFO: {
        if (emittedAsHardLink(image, ino, path, perm, xattrs)) {
          return;
        }
        byte t = ino.isCharDevice() ? TarConstants.LF_CHR
            : ino.type() == Ext4Inode.S_IFBLK ? TarConstants.LF_BLK : TarConstants.LF_FIFO;
        header(path, t, perm, ino, 0, null, xattrs);
        w.end();
        return;
      }
      case Ext4Inode.S_IFSOCK:
        return;
      default:
        throw new IOException("inode " + ino.number() + " at " + PaxTarWriter.display(path) + " has unknown file type 0"
            + Integer.toOctalString(ino.type()));
    }
  }

  /** Writes the AUFS whiteout {@code <dir>/.wh.<name>} for path {@code dir/name}. */
  void whiteout(String path, long uid, long gid, Instant mtime) throws IOException {
    whiteout(w, path, uid, gid, mtime);
  }

  /** Writes to {@code w} the AUFS whiteout {@code <dir>/.wh.<name>} for path {@code dir/name} (0600, no xattrs). */
  static void whiteout(PaxTarWriter w, String path, long uid, long gid, Instant mtime) throws IOException {
    int slash = path.lastIndexOf('/');
    String name = slash < 0 ? WHITEOUT_PREFIX + path : path.substring(0, slash + 1) + WHITEOUT_PREFIX
        + path.substring(slash + 1);
    w.begin(new PaxTarWriter.Header(name, TarConstants.LF_NORMAL, 0600, uid, gid, 0, mtime, null, 0, 0, Map.of()));
    w.end();
  }

  /** Whether {@code xattrs} mark an overlay opaque directory ({@code trusted.overlay.opaque=y}). */
  static boolean isOpaque(Map<String, byte[]> xattrs) {
    return java.util.Arrays.equals(xattrs.get(OPAQUE_XATTR), Y);
  }

  /** Whether {@code name} is overlayfs bookkeeping ({@code trusted.overlay.*}), which the layer tar leaves out. */
  static boolean isOverlayXattr(String name) {
    return name.startsWith(OVERLAY_XATTRS);
  }

  /**
   * For an inode with several names: writes a tar hard link to the first name already written and returns true, or
   * remembers {@code path} as that first name and returns false (the caller then writes the entry itself).
   */
  private boolean emittedAsHardLink(Ext4Reader image, Ext4Inode ino, String path, int perm, Map<String, byte[]> xattrs)
      throws IOException {
    if (ino.links() <= 1) {
      return false;
    }
    LinkKey k = new LinkKey(image, ino.number());
    String first = firstNames.get(k);
    if (first == null) {
      firstNames.put(k, path);
      return false;
    }
    header(path, TarConstants.LF_LINK, perm, ino, 0, first, xattrs);
    w.end();
    return true;
  }

  private OutputStream header(String name, byte type, int perm, Ext4Inode ino, long size, String link,
      Map<String, byte[]> xattrs) throws IOException {
    return w.begin(new PaxTarWriter.Header(name, type, perm, ino.uid(), ino.gid(), size, ino.mtime(), link,
        ino.deviceMajor(), ino.deviceMinor(), xattrs));
  }

  /** The sum of regular-file entry sizes written so far. */
  long dataBytes() {
    return w.dataBytes();
  }

  /** Ends the archive (the underlying stream is flushed, not closed). */
  void finish() throws IOException {
    w.finish();
  }
}
