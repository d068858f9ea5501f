package io.lcowgd.convert;

import io.lcowgd.ext4.FileMeta;
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
 * bytes {@link Ext4ToTar}'s sandbox export writes for the same tree: every entry is re-emitted through the export's
 * {@link LayerTarEmitter} (whiteout, opaque, {@code trusted.overlay.*} and hard-link rules), checked by the
 * byte-identity tests ({@code GuestExportCommandTest}, {@code GuestDiffTest}).
 *
 * <p>Input rules: entries in the order {@code --sort=name} gives (depth-first pre-order, children bytewise sorted:
 * the sandbox export's order); names, link names, {@code mtime} (nanoseconds, negative), {@code uid}/{@code gid} and
 * {@code SCHILY.xattr.*} (GNU tar's {@code %3D}/{@code %25} key escapes) read from the raw PAX records, byte-exact.
 * Translation: a 0/0 character device {@code x} becomes an empty regular file {@code .wh.x} (mode 0600, the device's
 * owner and mtime, no xattrs); a directory with {@code trusted.overlay.opaque=y} is followed by
 * {@code <dir>/.wh..wh..opq}; {@code trusted.overlay.*} xattrs are dropped.
 *
 * <p>Hard links: GNU tar links later names of regular files and symlinks to the first one, writes devices and fifos
 * in full every time, and writes no xattrs on link entries. {@code multiLinked} (every non-directory with more than one
 * link, by relative path, with its inode number) gives the emitter each name's inode; a GNU tar link entry is turned
 * back into the file it stands for (the first name's kind, symlink target, device numbers and xattrs) before it is
 * emitted, so the emitter's rules decide what is written. Only the first name of each multiply-linked inode is
 * remembered, so memory is bounded by the number of multiply-linked inodes.
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
  /** One input entry with the metadata the export writes (raw xattrs, GNU tar's key escapes undone). */
  private record In(String path, byte type, int perm, long uid, long gid, long size, Instant mtime, String link,
      int devMajor, int devMinor, Map<String, byte[]> xattrs) {
    /** This entry as the emitter takes it, of {@code kind}, with {@code inode} (null unless multiply linked). */
    LayerTarEmitter.FileName name(LayerTarEmitter.Kind kind, Object inode) {
      return new LayerTarEmitter.FileName(path, kind, perm, uid, gid, mtime, size,
          kind == LayerTarEmitter.Kind.SYMLINK ? link : null, devMajor, devMinor, xattrs, inode);
    }
  }

  /** The first name met of a multiply-linked inode: what GNU tar leaves off the link entries to it. */
  private record First(String path, LayerTarEmitter.Kind kind, String symlinkTarget, int devMajor, int devMinor,
      Map<String, byte[]> xattrs) {}

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
    LayerTarEmitter em = LayerTarEmitter.buffered(out, true);
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
          em.emit(pendingLostFound.name(LayerTarEmitter.Kind.DIRECTORY, null), LayerTarEmitter.NO_DATA);
        }
        pendingLostFound = null;
      }
      if (lostFound == RootLostFound.DROP_IF_EMPTY && e.type == TarConstants.LF_DIR && e.path.equals(LOST_FOUND)) {
        pendingLostFound = e;
        continue;
      }
      Long inode = e.type == TarConstants.LF_DIR ? null : multiLinked.get(e.path);
      First first = inode == null ? null : firsts.get(inode);
      if (e.type == TarConstants.LF_LINK) {
        em.emit(linked(e, first, inode), LayerTarEmitter.NO_DATA);
        continue;
      }
      LayerTarEmitter.Kind kind = kindOf(e);
      if (first == null && inode != null) {
        firsts.put(inode, new First(e.path, kind, e.link, e.devMajor, e.devMinor, e.xattrs));
      } else if (first != null && kind == LayerTarEmitter.Kind.REGULAR) {
        throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " repeats the data of "
            + PaxTarWriter.display(first.path) + " (same inode) instead of linking to it");
      }
      em.emit(e.name(kind, inode), data -> copyData(tin, e, data));
    }
    src.drain(); // GNU tar's block padding; a source that fails at its end (the guest command's status) fails here
    em.finish();
    return em.dataBytes();
  }

  /**
   * The file a GNU tar hard link {@code e} stands for: the first name's kind, symlink target, device numbers and
   * xattrs (GNU tar writes none on link entries) with the link entry's own name and metadata; fails unless the
   * guest's link listing names the link's target as the first name of the same inode.
   */
  private static LayerTarEmitter.FileName linked(In e, First first, Long inode) throws IOException {
    if (first == null || !first.path.equals(e.link)) {
      throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " links to " + PaxTarWriter.display(e.link)
          + ", which the guest's link listing does not name as the first name of the same inode");
    }
    return new LayerTarEmitter.FileName(e.path, first.kind, e.perm, e.uid, e.gid, e.mtime, 0, first.symlinkTarget,
        first.devMajor, first.devMinor, first.xattrs, inode);
  }

  private static LayerTarEmitter.Kind kindOf(In e) throws IOException {
    return switch (e.type) {
      case TarConstants.LF_DIR -> LayerTarEmitter.Kind.DIRECTORY;
      case TarConstants.LF_NORMAL -> LayerTarEmitter.Kind.REGULAR;
      case TarConstants.LF_SYMLINK -> LayerTarEmitter.Kind.SYMLINK;
      case TarConstants.LF_CHR -> LayerTarEmitter.Kind.CHAR_DEVICE;
      case TarConstants.LF_BLK -> LayerTarEmitter.Kind.BLOCK_DEVICE;
      case TarConstants.LF_FIFO -> LayerTarEmitter.Kind.FIFO;
      default -> throw new IOException("tar entry " + PaxTarWriter.display(e.path) + " has unsupported type '"
          + (char) e.type + "'");
    };
  }

  /** Copies the data of regular file {@code e} from the input to {@code out}; fails unless it is the header's size. */
  private static void copyData(TarArchiveInputStream tin, In e, OutputStream out) throws IOException {
    long n;
    try {
      n = tin.transferTo(out);
    } catch (IOException ex) {
      throw new IOException("tar entry " + PaxTarWriter.display(e.path) + ": reading its " + e.size
          + " data bytes: " + ex.getMessage(), ex);
    }
    if (n != e.size) {
      throw new IOException("tar entry " + PaxTarWriter.display(e.path) + ": " + n + " data bytes, header says "
          + e.size);
    }
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
    Instant mtime = e.getLastModifiedTime().toInstant(); // commons-compress parses PAX mtimes to the nanosecond
    long uid = e.getLongUserId();
    long gid = e.getLongGroupId();
    if (uid < 0 || uid > FileMeta.MAX_ID || gid < 0 || gid > FileMeta.MAX_ID) {
      throw new IOException("tar entry " + PaxTarWriter.display(path) + ": uid/gid out of range: " + uid + "/" + gid);
    }
    return new In(path, type, e.getMode() & 07777, uid, gid,
        type == TarConstants.LF_NORMAL ? e.getSize() : 0, mtime, link, e.getDevMajor(), e.getDevMinor(), xattrs);
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
