package io.lcowgd.convert;

import static io.lcowgd.convert.TreeView.S_IFDIR;
import static io.lcowgd.convert.TreeView.S_IFLNK;
import static io.lcowgd.convert.TreeView.S_IFMT;
import static io.lcowgd.convert.TreeView.S_IFREG;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One layer's tree as a guest's {@code lcow-changes} lister reported it (untrusted input, validated strictly): the
 * entries by relative path (raw bytes, one char per byte, the tree root being {@code ""}), whether the tree is the
 * whole filesystem or the sandbox's {@code upper/}, and which directories carry {@code trusted.overlay.opaque=y}.
 *
 * <p>Wire format (written by {@code scripts/build-uvm}'s {@code /usr/libexec/lcow-changes}): NUL-terminated fields
 * {@code LCOWLS1}, {@code upper|whole}; per entry {@code S} and GNU stat's {@code %n %f %u %g %s %.9Y %h %i %t %T %N};
 * then {@code E}, getfattr's {@code -d -e hex} listing of the opaque attribute and a NUL; a stream holds one
 * such listing per layer.
 * Parsing happens while the stream arrives ({@link #parser()}), so no raw copy of the listing is held.
 * {@link ListingView} reads a listing as a {@link TreeView} for {@link LayerChanges}.
 */
public final class GuestListing {
  static final String MAGIC = "LCOWLS1";
  /** Bound on the entries of one stream (a hostile guest could otherwise exhaust the host's memory). */
  static final int MAX_ENTRIES = 1_000_000;
  private static final int MAX_FIELD = 1 << 20;
  private static final int MAX_ATTR_TEXT = 64 << 20;
  private static final int S_IFCHR = 0020000;
  private static final int[] TYPES = {0010000, S_IFCHR, S_IFDIR, 0060000, S_IFREG, S_IFLNK, 0140000};
  private static final Pattern DEC = Pattern.compile("[0-9]{1,19}");
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{1,8}");
  private static final Pattern TIME = Pattern.compile("-?[0-9]{1,12}\\.[0-9]{9}");

  /** One entry: its path in the tree and what the change rules need of its inode. */
  public record Entry(String path, int mode, long uid, long gid, long size, Instant mtime, long links, long inode,
      int major, int minor, byte[] target) {
    boolean isDir() {
      return (mode & S_IFMT) == S_IFDIR;
    }

    boolean isRegular() {
      return (mode & S_IFMT) == S_IFREG;
    }

    boolean isSymlink() {
      return (mode & S_IFMT) == S_IFLNK;
    }

    /** An overlay whiteout: a character device 0/0. */
    boolean isWhiteout() {
      return (mode & S_IFMT) == S_IFCHR && major == 0 && minor == 0;
    }
  }

  private final boolean wholeFs;
  private final Map<String, Entry> entries;
  private final Map<String, List<String>> children = new HashMap<>();
  private final java.util.Set<String> opaque;

  private GuestListing(boolean wholeFs, Map<String, Entry> entries, java.util.Set<String> opaque) {
    this.wholeFs = wholeFs;
    this.entries = entries;
    this.opaque = opaque;
    for (String p : entries.keySet()) {
      if (!p.isEmpty()) {
        children.computeIfAbsent(parentOf(p), k -> new ArrayList<>()).add(p);
      }
    }
  }

  /** Whether the tree is the whole filesystem (not a sandbox's {@code upper/}). */
  boolean wholeFs() {
    return wholeFs;
  }

  /** The entry at {@code path} ({@code ""} = tree root), or null. */
  Entry get(String path) {
    return entries.get(path);
  }

  /** The listed paths directly below {@code dir} (unsorted). */
  List<String> childPaths(String dir) {
    return children.getOrDefault(dir, List.of());
  }

  /** Whether the directory at {@code path} is opaque ({@code trusted.overlay.opaque} is {@code y}). */
  boolean isOpaque(String path) {
    return opaque.contains(path);
  }

  int size() {
    return entries.size();
  }

  /** The parent path of a non-root relative path. */
  static String parentOf(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  /** The last component of a non-root relative path. */
  static String nameOf(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** A parser to write the guest's stream into; {@link Parser#finish()} returns the listings. */
  public static Parser parser() {
    return new Parser();
  }

  /** Incremental parser of the wire format; every violation fails with what was wrong and where. */
  public static final class Parser extends OutputStream {
    private final ByteArrayOutputStream field = new ByteArrayOutputStream();
    private final List<byte[]> record = new ArrayList<>(12);
    private final Map<String, Entry> entries = new HashMap<>();
    private final ByteArrayOutputStream attrText = new ByteArrayOutputStream();
    private Boolean wholeFs;
    private boolean inAttrs;
    private long offset;
    private IOException failure;
    private final List<GuestListing> done = new ArrayList<>();
    private long total;

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    /**
     * Never throws: the first violation is kept and the rest of the stream is discarded, so the guest agent is
     * always read to the end of its answer; {@link #finish()} reports the violation.
     */
    @Override
    public void write(byte[] b, int off, int len) {
      if (failure != null) {
        return;
      }
      try {
        consume(b, off, len);
      } catch (IOException e) {
        failure = e;
      }
    }

    private void consume(byte[] b, int off, int len) throws IOException {
      for (int i = off; i < off + len; i++) {
        offset++;
        if (inAttrs) {
          if (b[i] == 0) {
            endListing();
          } else if (attrText.size() >= MAX_ATTR_TEXT) {
            throw bad("attribute listing longer than " + MAX_ATTR_TEXT + " bytes");
          } else {
            attrText.write(b[i]);
          }
          continue;
        }
        if (b[i] != 0) {
          if (field.size() >= MAX_FIELD) {
            throw bad("field longer than " + MAX_FIELD + " bytes");
          }
          field.write(b[i]);
          continue;
        }
        record.add(field.toByteArray());
        field.reset();
        fieldDone();
      }
    }

    private void endListing() throws IOException {
      if (!entries.containsKey("")) {
        throw bad("the tree root '.' is not listed");
      }
      done.add(new GuestListing(wholeFs, new HashMap<>(entries), opaque(attrText.toString(StandardCharsets.ISO_8859_1))));
      total += entries.size();
      entries.clear();
      attrText.reset();
      wholeFs = null;
      inAttrs = false;
    }

    private void fieldDone() throws IOException {
      if (wholeFs == null) {
        if (record.size() < 2) {
          return;
        }
        String magic = ascii(record.get(0));
        String kind = ascii(record.get(1));
        if (!magic.equals(MAGIC) || !(kind.equals("upper") || kind.equals("whole"))) {
          throw bad("bad header '" + abbrev(magic) + "' '" + abbrev(kind) + "'");
        }
        wholeFs = kind.equals("whole");
        record.clear();
        return;
      }
      String tag = ascii(record.get(0));
      if (tag.equals("E") && record.size() == 1) {
        inAttrs = true;
        record.clear();
      } else if (!tag.equals("S")) {
        throw bad("unknown record tag '" + abbrev(tag) + "'");
      } else if (record.size() == 12) {
        entry();
        record.clear();
      }
    }

    private void entry() throws IOException {
      String rawName = ascii(record.get(1));
      if (!rawName.equals(".") && !rawName.startsWith("./")) {
        throw bad("entry name '" + abbrev(PaxTarWriter.display(rawName)) + "' is neither '.' nor './...'");
      }
      String path = relative(rawName);
      try {
        int mode = (int) Long.parseLong(match(HEX, 2, "mode"), 16);
        if (Arrays.stream(TYPES).noneMatch(t -> t == (mode & S_IFMT))) {
          throw new IOException("unknown file type in mode " + Integer.toOctalString(mode));
        }
        long uid = u32(match(DEC, 3, "uid"));
        long gid = u32(match(DEC, 4, "gid"));
        long size = Long.parseLong(match(DEC, 5, "size"));
        Instant mtime = time(match(TIME, 6, "mtime"));
        long links = Long.parseLong(match(DEC, 7, "link count"));
        long inode = Long.parseLong(match(DEC, 8, "inode"));
        int major = (int) Long.parseLong(match(HEX, 9, "major"), 16);
        int minor = (int) Long.parseLong(match(HEX, 10, "minor"), 16);
        byte[] name = record.get(1);
        byte[] quoted = record.get(11);
        byte[] target = null;
        if ((mode & S_IFMT) == S_IFLNK) {
          int n = name.length;
          if (quoted.length <= n + 4 || !Arrays.equals(quoted, 0, n, name, 0, n)
              || !Arrays.equals(quoted, n, n + 4, " -> ".getBytes(StandardCharsets.US_ASCII), 0, 4)) {
            throw new IOException("symlink without 'name -> target'");
          }
          target = Arrays.copyOfRange(quoted, n + 4, quoted.length);
        } else if (!Arrays.equals(quoted, name)) {
          throw new IOException("%N differs from the name");
        }
        if (total + entries.size() >= MAX_ENTRIES) {
          throw new IOException("more than " + MAX_ENTRIES + " entries");
        }
        Entry entry = new Entry(path, mode, uid, gid, size, mtime, links, inode, major, minor, target);
        if (entries.put(path, entry) != null) {
          throw new IOException("listed twice");
        }
      } catch (IOException | NumberFormatException e) {
        throw bad("entry '" + PaxTarWriter.display(path) + "': " + e.getMessage());
      }
    }

    private String match(Pattern p, int index, String what) throws IOException {
      String s = ascii(record.get(index));
      if (!p.matcher(s).matches()) {
        throw new IOException("bad " + what + " '" + abbrev(s) + "'");
      }
      return s;
    }

    /** Ends the stream: its listings (one per layer, in order), or a failure if it was cut short or malformed. */
    public List<GuestListing> finish() throws IOException {
      if (failure != null) {
        throw failure;
      }
      if (wholeFs != null || field.size() > 0 || !record.isEmpty() || done.isEmpty()) {
        throw bad("listing ends early");
      }
      return done;
    }

    private java.util.Set<String> opaque(String text) throws IOException {
      java.util.Set<String> out = new java.util.HashSet<>();
      String file = null;
      for (String line : text.split("\n", -1)) {
        if (line.isEmpty()) {
          continue;
        }
        if (line.startsWith("# file: ")) {
          file = relative(unescape(line.substring("# file: ".length())));
        } else if (file != null && line.startsWith("trusted.overlay.opaque=")) {
          if (line.equals("trusted.overlay.opaque=0x79")) {
            out.add(file);
          }
        } else {
          throw bad("unexpected attribute listing line '" + abbrev(PaxTarWriter.display(line)) + "'");
        }
      }
      return out;
    }

    private IOException bad(String what) {
      return new IOException("guest listing (byte " + offset + "): " + what);
    }
  }

  /**
   * A guest name ({@code .}, {@code ./a/b} or, from getfattr, {@code a/b}) as a relative path; rejects empty, {@code
   * .} and {@code ..} components.
   */
  static String relative(String name) throws IOException {
    String p = name.equals(".") ? "" : name.startsWith("./") ? name.substring(2) : name;
    if (!p.isEmpty()) {
      for (String c : p.split("/", -1)) {
        if (c.isEmpty() || c.equals(".") || c.equals("..")) {
          throw new IOException("guest listing: bad path '" + abbrev(PaxTarWriter.display(name)) + "'");
        }
      }
    }
    return p;
  }

  /** getfattr's name quoting: {@code \ooo} octal escapes (a backslash is always escaped), other bytes raw. */
  static String unescape(String s) throws IOException {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch != '\\') {
        b.append(ch);
      } else if (i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-3][0-7]{2}")) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        throw new IOException("guest listing: bad escape in '" + abbrev(PaxTarWriter.display(s)) + "'");
      }
    }
    return b.toString();
  }

  private static long u32(String s) throws IOException {
    long v = Long.parseLong(s);
    if (v > 0xffffffffL) {
      throw new IOException("id " + s + " out of range");
    }
    return v;
  }

  /** {@code [-]S.NNNNNNNNN} (GNU stat {@code %.9Y}: the value, so -1.5 is 1.5 s before the epoch) as an Instant. */
  static Instant time(String s) {
    boolean neg = s.startsWith("-");
    String[] parts = (neg ? s.substring(1) : s).split("\\.");
    long sec = Long.parseLong(parts[0]);
    long nano = Long.parseLong(parts[1]);
    if (!neg) {
      return Instant.ofEpochSecond(sec, nano);
    }
    return nano == 0 ? Instant.ofEpochSecond(-sec) : Instant.ofEpochSecond(-sec - 1, 1_000_000_000L - nano);
  }

  /** Bytes as one char per byte. */
  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.ISO_8859_1);
  }

  private static String abbrev(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
