package io.lcowgd.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Rewrites, entry by entry and streaming, a GNU tar of an overlay upper directory (as a service VM writes it with
 * {@code tar --format=pax --xattrs --xattrs-include='*' --numeric-owner --sort=name -C upper .}) into exactly the
 * bytes {@link Ext4ToTar}'s sandbox export writes for the same tree: every entry is re-emitted through
 * {@link PaxTarWriter}, with {@link LayerTarEmitter}'s whiteout writer and its opaque and {@code trusted.overlay.*}
 * rules; the hard-link rules below are this class's own, kept in step with the export's by the byte-identity tests
 * ({@code GuestExportCommandTest}, {@code GuestDiffTest}).
 *
 * <p>Input rules: entries in the order {@code --sort=name} gives (depth-first pre-order, children bytewise sorted:
 * the sandbox export's order); names, link names, {@code mtime} (nanoseconds, negative), {@code uid}/{@code gid} and
 * {@code SCHILY.xattr.*} (GNU tar's {@code %3D}/{@code %25} key escapes) read from the raw PAX records, byte-exact.
 * Translation: a 0/0 character device {@code x} becomes an empty regular file {@code .wh.x} (mode 0600, the device's
 * owner and mtime, no xattrs); a directory with {@code trusted.overlay.opaque=y} is followed by
 * {@code <dir>/.wh..wh..opq}; {@code trusted.overlay.*} xattrs are dropped.
 *
 * <p>Hard links: GNU tar links later names of regular files and symlinks to the first one, writes devices and fifos
 * in full every time, and writes no xattrs on link entries; the sandbox export links regular files, devices and fifos
 * (with the inode's xattrs) and writes symlinks in full. {@code multiLinked} (every non-directory with more than one
 * link, by relative path, with its inode number) lets the rewrite follow the export's rules; only those entries are
 * remembered, so memory is bounded by the number of multiply-linked names.
 */
public final class OverlayTarRewriter {
  /** What to drop from the input besides the tree root. */
  public enum RootLostFound {
    /** Keep every entry. */
    KEEP,
    /** Leave out a root-level {@code lost+found} directory that has no entries (the whole-filesystem export). */
    DROP_IF_EMPTY
  }

  private static final String LOST_FOUND = "lost+found";
  private static final int READ_BUFFER = 1 << 16;
  /** Linux's bound on one xattr value ({@code XATTR_SIZE_MAX}). */
  static final int MAX_XATTR_VALUE = 65536;
  /** Linux's bound on an inode's xattr name list, each name with its NUL ({@code XATTR_LIST_MAX}). */
  static final int MAX_XATTR_NAMES = 65536;
  /** {@link First#type} of a whiteout (overlayfs links its whiteouts to one shared 0/0 device inode). */
  private static final byte WHITEOUT = 'W';

  /** One input entry with the metadata the export writes. */
  private record In(String path, byte type, int perm, long uid, long gid, long size, Instant mtime, String link,
      int devMajor, int devMinor, Map<String, byte[]> xattrs, boolean opaque) {
    boolean whiteout() {
      return type == TarConstants.LF_CHR && devMajor == 0 && devMinor == 0;
    }
  }

  /** The first name met of a multiply-linked inode. */
  private record First(String path, byte type, String link, Map<String, byte[]> xattrs) {}

  private OverlayTarRewriter() {}

  /**
   * Reads the tar {@code in} to its end and writes the layer tar to {@code out} (flushed, not closed); returns the sum
   * of its regular-file sizes. The bytes after the input's end-of-archive marker are read and dropped before the
   * output's end-of-archive marker is written, so when reading {@code in} fails at its end (the source's command
   * exited non-zero) the output never looks complete. {@code multiLinked} maps the relative path (one char per name
   * byte) of every non-directory with more than one link to its inode number.
   */
  public static long rewrite(InputStream in, Map<String, Long> multiLinked, RootLostFound lostFound,
      OutputStream out) throws IOException {
    TarInput src = TarInput.of(in, READ_BUFFER);
    TarArchiveInputStream tin = new TarArchiveInputStream(src, StandardCharsets.ISO_8859_1.name());
    java.io.BufferedOutputStream buffered = new java.io.BufferedOutputStream(io.lcowgd.io.NonClosing.output(out), 1 << 16);
    PaxTarWriter w = new PaxTarWriter(buffered);
    Map<Long, First> firsts = new HashMap<>();
    In pendingLostFound = null;
    long start = src.position();
    while (true) {
      In e = next(src, tin, start);
      if (e == null) {
        break;
      }
      if (e.path.isEmpty()) {
        continue; // the tree root itself
      }
      if (pendingLostFound != null) {
        if (e.path.startsWith(LOST_FOUND + "/")) {
          directory(w, pendingLostFound);
        }
        pendingLostFound = null;
      }
      if (lostFound == RootLostFound.DROP_IF_EMPTY && e.type == TarConstants.LF_DIR && e.path.equals(LOST_FOUND)) {
        pendingLostFound = e;
        continue;
      }
      Long inode = e.type == TarConstants.LF_DIR ? null : multiLinked.get(e.path);
      First first = inode == null ? null : firsts.get(inode);
      if (first == null && inode != null && e.type != TarConstants.LF_LINK) {
        boolean readsXattrs = e.type == TarConstants.LF_NORMAL || e.type == TarConstants.LF_SYMLINK;
        firsts.put(inode, new First(e.path, e.whiteout() ? WHITEOUT : e.type, e.link,
            readsXattrs ? e.xattrs : Map.of())); // only link() of regular files and symlinks reads them
      }
      switch (e.type) {
        case TarConstants.LF_DIR -> directory(w, e);
        case TarConstants.LF_LINK -> link(w, e, first);
        case TarConstants.LF_SYMLINK -> write(w, e, e.path, TarConstants.LF_SYMLINK, 0, e.link, e.xattrs);
        case TarConstants.LF_CHR, TarConstants.LF_BLK, TarConstants.LF_FIFO -> {
          if (e.whiteout()) {
            whiteout(w, e);
          } else if (first != null) {
            write(w, e, e.path, TarConstants.LF_LINK, 0, first.path, e.xattrs); // the export links these
          } else {
            write(w, e, e.path, e.type, 0, null, e.xattrs);
          }
        }
        case TarConstants.LF_NORMAL -> {
          if (first != null) {
            throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " repeats the data of "
                + PaxTarWriter.display(first.path) + " (same inode) instead of linking to it");
          }
          OutputStream data = w.begin(header(e, e.path, TarConstants.LF_NORMAL, e.size, null, e.xattrs));
          long n;
          try {
            n = tin.transferTo(data);
          } catch (IOException ex) {
            throw new IOException("tar entry " + PaxTarWriter.display(e.path) + ": reading its " + e.size
                + " data bytes: " + ex.getMessage(), ex);
          }
          if (n != e.size) {
            throw new IOException("tar entry " + PaxTarWriter.display(e.path) + ": " + n + " data bytes, header says "
                + e.size);
          }
          w.end();
        }
        default -> throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " has unsupported type '"
            + (char) e.type + "'");
      }
    }
    drain(src); // GNU tar's block padding; a source that fails at its end (the guest command's status) fails here
    w.finish();
    buffered.flush();
    return w.dataBytes();
  }

  /** Reads {@code in} to its end, dropping the bytes. */
  private static void drain(InputStream in) throws IOException {
    byte[] b = new byte[READ_BUFFER];
    while (in.read(b) >= 0) {
      // dropped
    }
  }

  /**
   * An input hard link: to a regular file it stays a link (with the file's xattrs, which GNU tar leaves off link
   * entries); to a symlink it becomes that symlink again; to a whiteout, a whiteout.
   */
  private static void link(PaxTarWriter w, In e, First first) throws IOException {
    if (first == null || !first.path.equals(e.link)) {
      throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " links to " + PaxTarWriter.display(e.link)
          + ", which the guest's link listing does not name as the first name of the same inode");
    }
    switch (first.type) {
      case TarConstants.LF_SYMLINK -> write(w, e, e.path, TarConstants.LF_SYMLINK, 0, first.link, first.xattrs);
      case WHITEOUT -> whiteout(w, e);
      default -> write(w, e, e.path, TarConstants.LF_LINK, 0, first.path, first.xattrs);
    }
  }

  private static void write(PaxTarWriter w, In e, String name, byte type, long size, String link,
      Map<String, byte[]> xattrs) throws IOException {
    w.begin(header(e, name, type, size, link, xattrs));
    w.end();
  }

  private static void whiteout(PaxTarWriter w, In e) throws IOException {
    LayerTarEmitter.whiteout(w, e.path, e.uid, e.gid, e.mtime);
  }

  private static void directory(PaxTarWriter w, In e) throws IOException {
    write(w, e, e.path + "/", TarConstants.LF_DIR, 0, null, e.xattrs);
    if (e.opaque) {
      write(w, e, e.path + "/" + LayerTarEmitter.OPAQUE_MARKER, TarConstants.LF_NORMAL, 0, null, Map.of());
    }
  }

  private static PaxTarWriter.Header header(In e, String name, byte type, long size, String link,
      Map<String, byte[]> xattrs) {
    return new PaxTarWriter.Header(name, type, e.perm, e.uid, e.gid, size, e.mtime, link, e.devMajor, e.devMinor,
        xattrs);
  }

  /** Reads the next entry's headers (raw PAX records captured alongside the parser); null at the end of archive. */
  private static In next(TarInput src, TarArchiveInputStream tin, long start) throws IOException {
    RawPaxHeaders.Entry read;
    try {
      read = RawPaxHeaders.next(src, tin, start, RawPaxHeaders.Global.REFUSE);
    } catch (IOException | RuntimeException ex) {
      throw new IOException("bad tar header in the guest's export: " + ex.getMessage(), ex);
    }
    if (read == null) {
      return null;
    }
    TarArchiveEntry e = read.entry();
    Map<String, byte[]> pax = read.pax();
    String rawPath = raw(pax, "path", e.getName());
    String path = clean(rawPath, "tar entry " + PaxTarWriter.display(rawPath) + ": the name is");
    byte type = typeOf(e);
    String link = null;
    if (type == TarConstants.LF_LINK) {
      String rawLink = raw(pax, "linkpath", e.getLinkName());
      link = clean(rawLink, "tar entry " + PaxTarWriter.display(path) + ": the hard-link target "
          + PaxTarWriter.display(rawLink) + " is");
    } else if (type == TarConstants.LF_SYMLINK) {
      link = raw(pax, "linkpath", e.getLinkName());
    }
    Map<String, byte[]> xattrs = new TreeMap<>();
    long names = 0;
    for (Map.Entry<String, byte[]> x : read.xattrs().entrySet()) {
      String key = decodeXattrKey(x.getKey());
      names += key.getBytes(StandardCharsets.UTF_8).length + 1;
      if (x.getValue().length > MAX_XATTR_VALUE || names > MAX_XATTR_NAMES) {
        throw new IOException("tar entry " + PaxTarWriter.display(path) + ": xattr " + key + " exceeds Linux's limits ("
            + x.getValue().length + "-byte value, " + names + " bytes of names; at most " + MAX_XATTR_VALUE + " and "
            + MAX_XATTR_NAMES + ")");
      }
      xattrs.put(key, x.getValue());
    }
    boolean opaque = LayerTarEmitter.isOpaque(xattrs);
    xattrs.keySet().removeIf(LayerTarEmitter::isOverlayXattr);
    Instant mtime = e.getLastModifiedTime().toInstant(); // commons-compress parses PAX mtimes to the nanosecond
    long uid = e.getLongUserId();
    long gid = e.getLongGroupId();
    if (uid < 0 || uid > io.lcowgd.ext4.FileMeta.MAX_ID || gid < 0 || gid > io.lcowgd.ext4.FileMeta.MAX_ID) {
      throw new IOException("tar entry " + PaxTarWriter.display(path) + ": uid/gid out of range: " + uid + "/" + gid);
    }
    return new In(path, type, e.getMode() & 07777, uid, gid,
        type == TarConstants.LF_NORMAL ? e.getSize() : 0, mtime, link, e.getDevMajor(), e.getDevMinor(), xattrs,
        opaque && type == TarConstants.LF_DIR);
  }

  private static String raw(Map<String, byte[]> pax, String key, String header) {
    byte[] v = pax.get(key);
    return v != null ? new String(v, StandardCharsets.ISO_8859_1) : header;
  }

  private static byte typeOf(TarArchiveEntry e) throws IOException {
    if (e.isDirectory()) {
      return TarConstants.LF_DIR;
    } else if (e.isLink()) {
      return TarConstants.LF_LINK;
    } else if (e.isSymbolicLink()) {
      return TarConstants.LF_SYMLINK;
    } else if (e.isCharacterDevice()) {
      return TarConstants.LF_CHR;
    } else if (e.isBlockDevice()) {
      return TarConstants.LF_BLK;
    } else if (e.isFIFO()) {
      return TarConstants.LF_FIFO;
    } else if (e.isFile() && !e.isSparse()) {
      return TarConstants.LF_NORMAL;
    }
    throw new IOException("tar entry " + PaxTarWriter.display(e.getName()) + " has an unsupported type ("
        + (e.isSparse() ? "sparse" : e.isGlobalPaxHeader() ? "global PAX header" : "unknown") + ")");
  }

  /**
   * GNU tar's xattr key escapes in {@code SCHILY.xattr.*} keywords: {@code %3D} is {@code =}, {@code %25} is
   * {@code %}; anything else is literal.
   */
  static String decodeXattrKey(String k) {
    if (k.indexOf('%') < 0) {
      return k;
    }
    StringBuilder b = new StringBuilder(k.length());
    for (int i = 0; i < k.length(); i++) {
      if (k.startsWith("%3D", i)) {
        b.append('=');
        i += 2;
      } else if (k.startsWith("%25", i)) {
        b.append('%');
        i += 2;
      } else {
        b.append(k.charAt(i));
      }
    }
    return b.toString();
  }

  /**
   * The relative form of an entry name or hard-link target; fails (naming it with {@code what}) unless it is already
   * clean: no {@code .} or {@code ..} component and no empty one ({@code //}) after the leading {@code ./} or
   * {@code /} and the trailing {@code /} are stripped, so nothing can climb out of the tree.
   */
  private static String clean(String name, String what) throws IOException {
    String stripped = relative(name);
    String cleaned = PathNames.clean(stripped);
    if (cleaned == null || !cleaned.equals(stripped)) {
      throw new IOException(what + " not a clean relative path (it has a '.', '..' or empty component)");
    }
    return stripped;
  }

  /** {@code ./a/b/} and {@code a/b} both become {@code a/b}; {@code ./} and {@code .} become the empty string. */
  static String relative(String name) {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    if (n.equals(".")) {
      n = "";
    }
    while (n.startsWith("/")) {
      n = n.substring(1);
    }
    while (n.endsWith("/")) {
      n = n.substring(0, n.length() - 1);
    }
    return n;
  }
}
