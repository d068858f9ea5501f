package io.lcowgd.convert;

import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.io.NonClosing;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Turns file names into Docker layer tar entries, whatever they were read from (an ext4 image: {@link Ext4ToTar},
 * {@link LayerChanges}; a guest's GNU tar: {@link OverlayTarRewriter}), with the overlay-to-AUFS translation of moby's
 * {@code overlayWhiteoutConverter.ConvertWrite}: a 0/0 character device {@code x} becomes an empty regular file
 * {@code .wh.x} (mode 0600, the device's owner and mtime); a directory with {@code trusted.overlay.opaque=y} is written
 * without that xattr and followed by {@code <dir>/.wh..wh..opq} (the directory's permissions, owner and mtime). Other
 * {@code trusted.overlay.*} xattrs (overlayfs bookkeeping) are dropped; the rest are written as
 * {@code SCHILY.xattr.*}. Sockets are skipped, as moby's tar writer does.
 *
 * <p>Hard links (the rules live here only): the first name written of a multiply-linked regular file, device or fifo
 * is written in full; every later name becomes a tar hard link to it (with its own permissions, owner, mtime and the
 * inode's xattrs). Symlinks are written in full every time, whiteouts are whiteouts every time, directories are never
 * linked. Memory: one remembered first name per multiply-linked inode.
 */
final class LayerTarEmitter {
  static final String WHITEOUT_PREFIX = ".wh.";
  static final String OPAQUE_MARKER = ".wh..wh..opq";
  private static final byte[] Y = {'y'};
  private static final String OVERLAY_XATTRS = "trusted.overlay.";
  private static final String OPAQUE_XATTR = "trusted.overlay.opaque";

  /** The kind of file a name is. */
  enum Kind {
    DIRECTORY, REGULAR, SYMLINK, CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET
  }

  /**
   * One name of a file, as read: {@code path} relative (no leading or trailing slash; one char per name byte),
   * {@code size} and data for regular files only, {@code symlinkTarget} (raw bytes, one char each) for symlinks only,
   * device numbers for devices, the raw xattrs ({@code trusted.overlay.*} included), and {@code inode}: an identity of
   * the file's inode, equal for all its names, when it has more than one name (null otherwise).
   */
  record FileName(String path, Kind kind, int perm, long uid, long gid, Instant mtime, long size, String symlinkTarget,
      int devMajor, int devMinor, Map<String, byte[]> xattrs, Object inode) {}

  /** The data of a regular file, copied to the tar when the file is written in full (exactly its size in bytes). */
  @FunctionalInterface
  interface Data {
    void copyTo(OutputStream out) throws IOException;
  }

  /** {@link Data} of an entry read without data: copying fails. */
  static final Data NO_DATA = out -> {
    throw new IOException("no data to copy");
  };

  private final OutputStream out;
  private final PaxTarWriter w;
  private final boolean opaqueMarkers;
  /** The first name written of each multiply-linked inode, by {@link FileName#inode()}. */
  private final Map<Object, String> firstNames = new HashMap<>();

  private record LinkKey(Ext4Reader image, long inode) {}

  /** An emitter writing to {@code out}; {@code opaqueMarkers} false leaves out the {@code .wh..wh..opq} markers. */
  LayerTarEmitter(OutputStream out, boolean opaqueMarkers) {
    this.out = out;
    this.w = new PaxTarWriter(out);
    this.opaqueMarkers = opaqueMarkers;
  }

  /**
   * Writes the entry (or entries) for {@code f}, which may be a later name of a file already written: then a hard
   * link to its first name, by the rules above; {@code data} is called only for a regular file written in full.
   */
  void emit(FileName f, Data data) throws IOException {
    if (f.kind == Kind.CHAR_DEVICE && f.devMajor == 0 && f.devMinor == 0) {
      whiteout(f.path, f.uid, f.gid, f.mtime);
      return;
    }
    Map<String, byte[]> xattrs = new TreeMap<>(f.xattrs);
    boolean opaque = isOpaque(xattrs);
    xattrs.keySet().removeIf(LayerTarEmitter::isOverlayXattr);
    switch (f.kind) {
      case DIRECTORY -> {
        header(f, f.path + "/", TarConstants.LF_DIR, 0, null, xattrs);
        w.end();
        if (opaqueMarkers && opaque) {
          header(f, f.path + "/" + OPAQUE_MARKER, TarConstants.LF_NORMAL, 0, null, Map.of());
          w.end();
        }
      }
      case SYMLINK -> {
        header(f, f.path, TarConstants.LF_SYMLINK, 0, f.symlinkTarget, xattrs);
        w.end();
      }
      case SOCKET -> {
        // skipped
      }
      case REGULAR, CHAR_DEVICE, BLOCK_DEVICE, FIFO -> {
        String first = f.inode == null ? null : firstNames.putIfAbsent(f.inode, f.path);
        if (first != null) {
          header(f, f.path, TarConstants.LF_LINK, 0, first, xattrs);
        } else if (f.kind == Kind.REGULAR) {
          data.copyTo(header(f, f.path, TarConstants.LF_NORMAL, f.size, null, xattrs));
        } else {
          byte t = f.kind == Kind.CHAR_DEVICE ? TarConstants.LF_CHR
              : f.kind == Kind.BLOCK_DEVICE ? TarConstants.LF_BLK : TarConstants.LF_FIFO;
          header(f, f.path, t, 0, null, xattrs);
        }
        w.end();
      }
      default -> throw new IllegalStateException("unhandled kind " + f.kind);
    }
  }

  /**
   * Writes the entry (or entries) for {@code ino} of {@code image} at relative path {@code path} (one char per name
   * byte, see {@link io.lcowgd.ext4.DirEntry#rawString()}): {@link #emit(FileName, Data)} with the inode's metadata;
   * the inodes of one emitter may come from several images.
   */
  void emit(String path, Ext4Reader image, Ext4Inode ino) throws IOException {
    Kind kind = switch (ino.type()) {
      case Ext4Inode.S_IFDIR -> Kind.DIRECTORY;
      case Ext4Inode.S_IFREG -> Kind.REGULAR;
      case Ext4Inode.S_IFLNK -> Kind.SYMLINK;
      case Ext4Inode.S_IFCHR -> Kind.CHAR_DEVICE;
      case Ext4Inode.S_IFBLK -> Kind.BLOCK_DEVICE;
      case Ext4Inode.S_IFIFO -> Kind.FIFO;
      case Ext4Inode.S_IFSOCK -> Kind.SOCKET;
      default -> throw new IOException("inode " + ino.number() + " at " + PaxTarWriter.display(path)
          + " has unknown file type 0" + Integer.toOctalString(ino.type()));
    };
    // a whiteout is written without xattrs: not read; a symlink's target is read only for symlinks
    Map<String, byte[]> xattrs = ino.isWhiteout() ? Map.of() : image.xattrs(ino);
    String target = kind == Kind.SYMLINK ? new String(image.readLink(ino), StandardCharsets.ISO_8859_1) : null;
    Object inode = ino.links() > 1 ? new LinkKey(image, ino.number()) : null;
    emit(new FileName(path, kind, ino.permissions(), ino.uid(), ino.gid(), ino.mtime(),
        kind == Kind.REGULAR ? ino.size() : 0, target, ino.deviceMajor(), ino.deviceMinor(), xattrs, inode),
        out -> image.copyData(ino, out));
  }

  /** Writes the AUFS whiteout {@code <dir>/.wh.<name>} for path {@code dir/name} (0600, no xattrs). */
  void whiteout(String path, long uid, long gid, Instant mtime) throws IOException {
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

  private OutputStream header(FileName f, String name, byte type, long size, String link, Map<String, byte[]> xattrs)
      throws IOException {
    return w.begin(new PaxTarWriter.Header(name, type, f.perm, f.uid, f.gid, size, f.mtime, link, f.devMajor,
        f.devMinor, xattrs));
  }

  /** The sum of regular-file entry sizes written so far. */
  long dataBytes() {
    return w.dataBytes();
  }

  /**
   * An emitter writing to {@code out} through a 64 KiB buffer; {@link #finish} flushes it to {@code out}, which is
   * never closed.
   */
  static LayerTarEmitter buffered(OutputStream out, boolean opaqueMarkers) {
    return new LayerTarEmitter(new BufferedOutputStream(NonClosing.output(out), 1 << 16), opaqueMarkers);
  }

  /** Ends the archive (the underlying stream is flushed, not closed). */
  void finish() throws IOException {
    w.finish();
    out.flush();
  }
}
