package io.lcowgd.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Rewrites, entry by entry and streaming, a plain tar of an overlay upper directory (as a service VM's busybox
 * {@code tar -cf - -C upper .} writes it) into a Docker layer tar with the same translation as {@link Ext4ToTar}'s
 * sandbox export: a 0/0 character device {@code x} becomes an empty regular file {@code .wh.x} (mode 0600, the
 * device's owner and mtime), and each directory named in {@code opaqueDirs} is followed by its
 * {@code <dir>/.wh..wh..opq} marker (the directory's permissions, owner and mtime). A hard link to a whiteout is a
 * whiteout too (overlayfs links its whiteouts to one shared device inode; tar writes the later names as links). Names are made relative
 * ({@code ./a/b} becomes {@code a/b}, directories end with {@code /}) and kept byte-exact (one char per byte).
 * Entry order is the input's. Extended attributes are not carried by the input and so not written.
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

  private OverlayTarRewriter() {}

  /**
   * Reads the tar {@code in} to its end and writes the layer tar to {@code out} (flushed, not closed); returns the
   * sum of its regular-file sizes. {@code opaqueDirs} holds relative directory paths without a trailing slash, one
   * char per name byte.
   */
  public static long rewrite(InputStream in, Set<String> opaqueDirs, RootLostFound lostFound, OutputStream out)
      throws IOException {
    TarArchiveInputStream tin = new TarArchiveInputStream(in, StandardCharsets.ISO_8859_1.name());
    java.io.BufferedOutputStream buffered = new java.io.BufferedOutputStream(io.lcowgd.io.NonClosing.output(out), 1 << 16);
    PaxTarWriter w = new PaxTarWriter(buffered);
    TarArchiveEntry pendingLostFound = null;
    Set<String> whiteouts = new java.util.HashSet<>();
    TarArchiveEntry e;
    while ((e = tin.getNextEntry()) != null) {
      String path = relative(e.getName());
      if (path.isEmpty()) {
        continue; // the tree root itself
      }
      if (pendingLostFound != null) {
        if (path.startsWith(LOST_FOUND + "/")) {
          directory(w, LOST_FOUND, pendingLostFound, opaqueDirs);
        }
        pendingLostFound = null;
      }
      if (lostFound == RootLostFound.DROP_IF_EMPTY && e.isDirectory() && path.equals(LOST_FOUND)) {
        pendingLostFound = e;
        continue;
      }
      Instant mtime = e.getLastModifiedTime().toInstant();
      int perm = e.getMode() & 07777;
      if (e.isDirectory()) {
        directory(w, path, e, opaqueDirs);
      } else if (e.isLink() && whiteouts.contains(relative(e.getLinkName()))) {
        whiteout(w, path, e, mtime); // overlayfs links its whiteouts to one shared 0/0 device inode
        whiteouts.add(path);
      } else if (e.isLink()) {
        w.begin(header(path, TarConstants.LF_LINK, perm, e, 0, relative(e.getLinkName()), mtime));
        w.end();
      } else if (e.isSymbolicLink()) {
        w.begin(header(path, TarConstants.LF_SYMLINK, perm, e, 0, e.getLinkName(), mtime));
        w.end();
      } else if (e.isCharacterDevice() && e.getDevMajor() == 0 && e.getDevMinor() == 0) {
        whiteout(w, path, e, mtime);
        whiteouts.add(path);
      } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
        byte t = e.isCharacterDevice() ? TarConstants.LF_CHR : e.isBlockDevice() ? TarConstants.LF_BLK
            : TarConstants.LF_FIFO;
        w.begin(header(path, t, perm, e, 0, null, mtime));
        w.end();
      } else if (e.isFile()) {
        OutputStream data = w.begin(header(path, TarConstants.LF_NORMAL, perm, e, e.getSize(), null, mtime));
        long n = tin.transferTo(data);
        if (n != e.getSize()) {
          throw new IOException("tar entry " + PaxTarWriter.display(path) + ": " + n + " data bytes, header says "
              + e.getSize());
        }
        w.end();
      } else {
        throw new IOException("tar entry " + PaxTarWriter.display(path) + " has unsupported type '"
            + (char) typeFlag(e) + "'");
      }
    }
    w.finish();
    buffered.flush();
    return w.dataBytes();
  }

  private static void whiteout(PaxTarWriter w, String path, TarArchiveEntry e, Instant mtime) throws IOException {
    int slash = path.lastIndexOf('/');
    String name = path.substring(0, slash + 1) + LayerTarEmitter.WHITEOUT_PREFIX + path.substring(slash + 1);
    w.begin(header(name, TarConstants.LF_NORMAL, 0600, e, 0, null, mtime));
    w.end();
  }

  private static void directory(PaxTarWriter w, String path, TarArchiveEntry e, Set<String> opaqueDirs)
      throws IOException {
    Instant mtime = e.getLastModifiedTime().toInstant();
    int perm = e.getMode() & 07777;
    w.begin(header(path + "/", TarConstants.LF_DIR, perm, e, 0, null, mtime));
    w.end();
    if (opaqueDirs.contains(path)) {
      w.begin(header(path + "/" + LayerTarEmitter.OPAQUE_MARKER, TarConstants.LF_NORMAL, perm, e, 0, null, mtime));
      w.end();
    }
  }

  private static PaxTarWriter.Header header(String name, byte type, int perm, TarArchiveEntry e, long size,
      String link, Instant mtime) {
    return new PaxTarWriter.Header(name, type, perm, e.getLongUserId(), e.getLongGroupId(), size, mtime, link,
        e.getDevMajor(), e.getDevMinor(), Map.of());
  }

  private static byte typeFlag(TarArchiveEntry e) {
    // commons-compress exposes the type only through predicates; report the closest readable description.
    return e.isGlobalPaxHeader() ? (byte) 'g' : e.isSparse() ? (byte) 'S' : (byte) '?';
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
