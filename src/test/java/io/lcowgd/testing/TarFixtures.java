package io.lcowgd.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds layer tars for tests (in memory with commons-compress, or from a directory with GNU tar) and extracts them
 * with GNU tar as the reference for what a layer should contain.
 */
public final class TarFixtures {
  private TarFixtures() {}

  /** Default mtime of fixture entries (with nanoseconds, written as a PAX record). */
  public static final Instant T0 = Instant.parse("2021-03-04T05:06:07.123456789Z");

  public static Builder builder() {
    return new Builder(new ByteArrayOutputStream());
  }

  /** A builder writing to {@code out} (e.g. a file for multi-GiB fixtures). */
  public static Builder builder(OutputStream out) {
    return new Builder(out);
  }

  /** PAX records ({@code "<len> <key>=<value>\n"}, key as UTF-8, value raw) in the map's order. */
  public static byte[] paxRecords(Map<String, byte[]> records) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> r : records.entrySet()) {
      byte[] k = r.getKey().getBytes(StandardCharsets.UTF_8);
      int rest = 1 + k.length + 1 + r.getValue().length + 1;
      int len = rest + Integer.toString(rest).length();
      if (Integer.toString(len).length() != Integer.toString(rest).length()) {
        len++;
      }
      body.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
      body.writeBytes(k);
      body.write('=');
      body.writeBytes(r.getValue());
      body.write('\n');
    }
    return body.toByteArray();
  }

  /** Fluent tar writer; entries get mode 0644/0755, owner 0:0 and mtime {@link #T0} unless customised. */
  public static final class Builder {
    private final OutputStream sink;
    private final TarArchiveOutputStream tos;
    private boolean nanoTimes = true;

    Builder(OutputStream sink) {
      this.sink = sink;
      this.tos = new TarArchiveOutputStream(sink);
      tos.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tos.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tos.setAddPaxHeadersForNonAsciiNames(true);
    }

    /** Whether entries get a PAX mtime with nanoseconds (default) or whole seconds only (no PAX header). */
    public Builder nanoTimes(boolean on) {
      nanoTimes = on;
      return this;
    }

    private TarArchiveEntry base(String name, byte type, int mode) {
      TarArchiveEntry e = new TarArchiveEntry(name, type, true);
      e.setMode(mode);
      if (nanoTimes) {
        e.setLastModifiedTime(FileTime.from(T0));
        e.addPaxHeader("mtime", T0.getEpochSecond() + "." + String.format("%09d", T0.getNano()));
      } else {
        e.setModTime(T0.getEpochSecond() * 1000);
      }
      return e;
    }

    public Builder file(String name, byte[] data) throws IOException {
      return file(name, data, e -> { });
    }

    public Builder file(String name, String data) throws IOException {
      return file(name, data.getBytes(StandardCharsets.UTF_8));
    }

    public Builder file(String name, String data, Consumer<TarArchiveEntry> c) throws IOException {
      return file(name, data.getBytes(StandardCharsets.UTF_8), c);
    }

    public Builder file(String name, byte[] data, Consumer<TarArchiveEntry> c) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_NORMAL, 0100644);
      e.setSize(data.length);
      c.accept(e);
      return entry(e, data);
    }

    /** A regular file of {@code size} bytes produced by {@code content} (for multi-GiB entries). */
    public Builder file(String name, long size, DataWriter content) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_NORMAL, 0100644);
      e.setSize(size);
      tos.putArchiveEntry(e);
      content.write(tos);
      tos.closeArchiveEntry();
      return this;
    }

    public Builder dir(String name) throws IOException {
      return dir(name, e -> { });
    }

    public Builder dir(String name, Consumer<TarArchiveEntry> c) throws IOException {
      TarArchiveEntry e = base(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR, 040755);
      c.accept(e);
      return entry(e, null);
    }

    public Builder symlink(String name, String target) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_SYMLINK, 0120777);
      e.setLinkName(target);
      return entry(e, null);
    }

    public Builder hardlink(String name, String target) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_LINK, 0100644);
      e.setLinkName(target);
      return entry(e, null);
    }

    public Builder charDev(String name, int major, int minor) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_CHR, 020644);
      e.setDevMajor(major);
      e.setDevMinor(minor);
      return entry(e, null);
    }

    public Builder blockDev(String name, int major, int minor) throws IOException {
      TarArchiveEntry e = base(name, TarConstants.LF_BLK, 060640);
      e.setDevMajor(major);
      e.setDevMinor(minor);
      return entry(e, null);
    }

    public Builder fifo(String name) throws IOException {
      return entry(base(name, TarConstants.LF_FIFO, 010644), null);
    }

    /**
     * A regular file preceded by a local PAX header with raw (possibly binary) record values, written by hand since
     * commons-compress can only write UTF-8 values; the ustar header itself carries no PAX of its own. An
     * {@code mtime} record for {@link #T0} is added unless {@code records} has one.
     */
    public Builder fileWithRawPax(String name, byte[] data, int mode, Map<String, byte[]> records)
        throws IOException {
      Map<String, byte[]> all = new java.util.LinkedHashMap<>(records);
      all.putIfAbsent("mtime", (T0.getEpochSecond() + "." + String.format("%09d", T0.getNano()))
          .getBytes(StandardCharsets.US_ASCII));
      return fileWithPaxBody(name, data, mode, paxRecords(all));
    }

    /** A regular file preceded by a local PAX header whose body is given verbatim (may be malformed). */
    public Builder fileWithPaxBody(String name, byte[] data, int mode, byte[] paxBody) throws IOException {
      TarArchiveEntry x = new TarArchiveEntry("PaxHeaders/" + name, TarConstants.LF_PAX_EXTENDED_HEADER_LC, true);
      x.setSize(paxBody.length);
      x.setModTime(T0.getEpochSecond() * 1000);
      entry(x, paxBody);
      TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL, true);
      e.setMode(mode);
      e.setModTime(T0.getEpochSecond() * 1000);
      e.setSize(data.length);
      return entry(e, data);
    }

    public Builder entry(TarArchiveEntry e, byte[] data) throws IOException {
      tos.putArchiveEntry(e);
      if (data != null) {
        tos.write(data);
      }
      tos.closeArchiveEntry();
      return this;
    }

    /** Finishes the archive (two zero records, padded to 10 KiB) and returns its bytes (in-memory builders). */
    public byte[] toBytes() throws IOException {
      tos.finish();
      tos.flush();
      return ((ByteArrayOutputStream) sink).toByteArray();
    }

    /** Finishes the archive and writes it to {@code p} (in-memory builders). */
    public Path write(Path p) throws IOException {
      Files.write(p, toBytes());
      return p;
    }

    /** Finishes an archive written to a caller-supplied stream. */
    public void finish() throws IOException {
      tos.finish();
      tos.flush();
    }
  }

  /** Writes entry contents to the tar stream. */
  @FunctionalInterface
  public interface DataWriter {
    void write(OutputStream out) throws IOException;
  }

  /** Extracts {@code tar} into {@code dest} with GNU tar as root, keeping owners, modes and all xattrs. */
  public static void extractWithGnuTar(Path tar, Path dest) throws IOException, InterruptedException {
    Files.createDirectories(dest);
    HostTools.check(List.of("tar", "-x", "--xattrs", "--xattrs-include=*", "--same-owner", "--numeric-owner",
        "--same-permissions", "-f", tar.toString(), "-C", dest.toString()), 600);
  }

  /**
   * GNU tar's archive (its default format, numeric owners) of {@code names} under {@code dir}, e.g. {@code "."}: a
   * layer tar as a host directory gives it.
   */
  public static byte[] gnuTarOf(Path dir, String... names) throws IOException {
    Path out = Files.createTempFile("layer", ".tar");
    try {
      List<String> cmd = new ArrayList<>(List.of("tar", "--numeric-owner", "-C", dir.toString(), "-cf",
          out.toString()));
      cmd.addAll(List.of(names));
      HostTools.check(cmd, 120);
      return Files.readAllBytes(out);
    } finally {
      Files.delete(out);
    }
  }

  /** Archives the contents of {@code dir} with GNU tar in POSIX format with xattrs (like a layer tar). */
  public static Path tarDirectoryWithGnuTar(Path dir, Path tar, String... extra)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("tar", "-c", "--format=posix", "--xattrs", "--xattrs-include=*",
        "--numeric-owner", "-f", tar.toString(), "-C", dir.toString()));
    cmd.addAll(List.of(extra));
    cmd.add(".");
    HostTools.check(cmd, 600);
    return tar;
  }
}
