package io.lcowgd.convert;

import io.lcowgd.ext4.Ext4Writer;
import io.lcowgd.ext4.FileMeta;
import io.lcowgd.vhd.VhdFooter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Converts a docker layer tar stream into an ext4 image (optionally with a fixed-VHD footer), the work behind
 * {@code ApplyDiff}.
 *
 * <p>Tar semantics follow {@code tar -x} and Docker's unpacker: entries apply in order and a later entry replaces
 * an earlier one at the same path (a directory replaced by a non-directory loses its subtree; a directory entry for
 * an existing directory only updates its metadata); names are cleaned with {@code /} and {@code ./} prefixes
 * ignored and names climbing above the root rejected; missing parents are created (0755, root, time 0); a hard link
 * binds to the inode its target names at that moment. With {@link ConvertOptions#convertWhiteouts}, {@code .wh.X}
 * becomes a 0/0 character device {@code X} (mode 0, owner 0, times 0), {@code .wh..wh..opq} sets
 * {@code trusted.overlay.opaque=y} on its directory (creating it if missing), and other {@code .wh..wh.*} entries
 * are skipped. Extended attributes come from PAX {@code SCHILY.xattr.*} records, byte-exact.
 *
 * <p>The tar is read to its very end (trailing bytes after the end-of-archive marker included). On any failure the
 * output file is deleted and an {@link IOException} with a one-line message naming the entry is thrown.
 */
public final class TarToExt4 {
  private TarToExt4() {}

  /** Files at least this big are copied with {@code transferTo} when the tar is a regular file. */
  static final long DIRECT_COPY_THRESHOLD = 64 << 10;
  private static final int READ_BUFFER = 1 << 20;
  private static final String OPAQUE = ".wh..wh..opq";
  private static final String WH_PREFIX = ".wh.";
  private static final String WH_META_PREFIX = ".wh..wh.";

  /** Converts the tar read from {@code tar} into {@code outImage} (created or replaced). */
  public static ConvertResult convert(InputStream tar, Path outImage, ConvertOptions options) throws IOException {
    boolean ok = false;
    try (FileChannel ch = FileChannel.open(outImage, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING)) {
      ConvertResult r = new Conversion(tar, ch, options).run();
      ok = true;
      return r;
    } catch (OutOfMemoryError e) {
      throw new LayerTarException("out of memory while converting the layer tar", e);
    } finally {
      if (!ok) {
        Files.deleteIfExists(outImage);
      }
    }
  }

  private static final class Conversion {
    private final TarInput in;
    private final FileChannel out;
    private final ConvertOptions options;
    private final Ext4Writer writer;
    private long contentSize;
    private long entries;
    private String current = "(start of archive)";

    Conversion(InputStream tar, FileChannel out, ConvertOptions options) throws IOException {
      this.in = TarInput.of(tar, READ_BUFFER);
      this.out = out;
      this.options = options;
      this.writer = new Ext4Writer(out, Ext4Writer.Config.defaults().withMaxDiskSize(options.maxDiskSize()));
    }

    ConvertResult run() throws IOException {
      long start = in.position();
      // ISO-8859-1 keeps ustar and GNU long names byte-exact; PAX names come raw from RawPaxHeaders.
      TarArchiveInputStream tis = new TarArchiveInputStream(in, "ISO-8859-1");
      byte[] scratch = new byte[64 << 10];
      while (true) {
        RawPaxHeaders.Entry read;
        try {
          read = RawPaxHeaders.next(in, tis, start, RawPaxHeaders.Global.IGNORE);
        } catch (IOException | RuntimeException ex) {
          throw new LayerTarException("bad tar header after entry " + current + ": " + message(ex), ex);
        }
        if (read == null) {
          break;
        }
        TarArchiveEntry e = read.entry();
        Map<String, byte[]> pax = read.pax();
        entries++;
        current = "#" + entries;
        try {
          apply(tis, e, pax);
          // Consume whatever data the entry has left (e.g. data on a link entry) so the next headers start clean.
          while (tis.read(scratch) > 0) {
            // discard
          }
        } catch (LayerTarException ex) {
          throw ex;
        } catch (IOException | RuntimeException ex) {
          throw new LayerTarException("tar entry " + current + ": " + message(ex), ex);
        }
      }
      in.drain();
      long tarBytes = in.position() - start;
      long ext4Size;
      try {
        ext4Size = writer.finish();
      } catch (IOException ex) {
        throw new LayerTarException("writing the ext4 image failed: " + message(ex), ex);
      }
      long imageSize = ext4Size;
      if (options.appendVhdFooter()) {
        imageSize = VhdFooter.append(out, ext4Size, writer.uuid()).currentSize() + VhdFooter.SIZE;
      }
      return new ConvertResult(contentSize, imageSize, ext4Size, entries, tarBytes);
    }

    private static String message(Throwable t) {
      String m = t.getMessage();
      return (m == null || m.isBlank() ? t.getClass().getSimpleName() : m).replace('\n', ' ');
    }

    private void apply(TarArchiveInputStream tis, TarArchiveEntry e, Map<String, byte[]> pax) throws IOException {
      byte[] rawName = pax.containsKey("path") ? pax.get("path") : e.getName().getBytes(StandardCharsets.ISO_8859_1);
      String name = utf8(rawName, "name");
      current = "'" + name + "'";
      String path = PathNames.clean(name);
      if (path == null) {
        throw new LayerTarException("tar entry " + current + ": path climbs out of the layer root");
      }
      long size = e.isSparse() ? e.getRealSize() : e.getSize();
      if (size < 0 || size > options.maxDiskSize()) {
        throw new LayerTarException("tar entry " + current + ": absurd size " + size);
      }
      contentSize += size;
      FileMeta meta = meta(e, pax);
      String base = PathNames.base(path);
      if (options.convertWhiteouts() && base.startsWith(WH_PREFIX)) {
        String dir = PathNames.parent(path);
        if (base.equals(OPAQUE)) {
          if (!writer.isDirectory(dir)) {
            writer.directory(dir, FileMeta.rootOwned(0755));
          }
          writer.setXattr(dir, "trusted.overlay.opaque", new byte[] {'y'});
        } else if (!base.startsWith(WH_META_PREFIX)) {
          String target = PathNames.join(dir, base.substring(WH_PREFIX.length()));
          writer.device(target, FileMeta.rootOwned(0), Ext4Writer.DeviceType.CHAR, 0, 0);
        }
        return;
      }
      if (e.isDirectory()) {
        writer.directory(path, meta);
      } else if (e.isSymbolicLink()) {
        writer.symlink(path, meta, linkName(e, pax));
      } else if (e.isLink()) {
        String target = PathNames.clean(linkName(e, pax));
        if (target == null) {
          throw new LayerTarException("tar entry " + current + ": hard link target climbs out of the layer root");
        }
        if (target.isEmpty()) {
          throw new LayerTarException("tar entry " + current + ": hard link to the root directory");
        }
        writer.hardLink(path, target);
      } else if (e.isCharacterDevice() || e.isBlockDevice()) {
        writer.device(path, meta, e.isCharacterDevice() ? Ext4Writer.DeviceType.CHAR : Ext4Writer.DeviceType.BLOCK,
            e.getDevMajor(), e.getDevMinor());
      } else if (e.isFIFO()) {
        writer.fifo(path, meta);
      } else if (e.isGlobalPaxHeader()) {
        return;
      } else {
        // Regular files, contiguous files, and (as POSIX asks) unknown types.
        FileChannel src = in.channel();
        if (src != null && !e.isSparse() && size >= DIRECT_COPY_THRESHOLD) {
          long dataPos = in.position();
          if (dataPos + size > src.size()) {
            throw new LayerTarException("tar entry " + current + ": truncated tar (data needs " + size
                + " bytes, " + Math.max(0, src.size() - dataPos) + " left)");
          }
          writer.file(path, meta, size, src, dataPos);
          in.consumedOutOfBand(size);
        } else {
          writer.file(path, meta, size, tis);
        }
      }
    }

    private String linkName(TarArchiveEntry e, Map<String, byte[]> pax) throws IOException {
      byte[] raw = pax.containsKey("linkpath")
          ? pax.get("linkpath") : e.getLinkName().getBytes(StandardCharsets.ISO_8859_1);
      return utf8(raw, "link name");
    }

    private String utf8(byte[] raw, String what) throws LayerTarException {
      try {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw)).toString();
      } catch (CharacterCodingException ex) {
        throw new LayerTarException("tar entry " + current + ": " + what + " is not valid UTF-8: "
            + new String(raw, StandardCharsets.ISO_8859_1));
      }
    }

    private FileMeta meta(TarArchiveEntry e, Map<String, byte[]> pax) throws IOException {
      Instant mtime = instant(e.getLastModifiedTime(), Instant.EPOCH);
      Instant atime = instant(e.getLastAccessTime(), mtime);
      Instant ctime = instant(e.getStatusChangeTime(), mtime);
      TreeMap<String, byte[]> xattrs = RawPaxHeaders.xattrs(pax);
      if (xattrs.containsKey("")) {
        throw new LayerTarException("tar entry " + current + ": empty xattr name");
      }
      long uid = e.getLongUserId();
      long gid = e.getLongGroupId();
      if (uid < 0 || uid > FileMeta.MAX_ID || gid < 0 || gid > FileMeta.MAX_ID) {
        throw new LayerTarException("tar entry " + current + ": uid/gid out of range: " + uid + "/" + gid);
      }
      return new FileMeta(e.getMode() & 07777, uid, gid, mtime, atime, ctime, xattrs);
    }

    private static Instant instant(FileTime t, Instant dflt) {
      return t == null ? dflt : t.toInstant();
    }
  }
}
