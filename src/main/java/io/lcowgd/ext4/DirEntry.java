package io.lcowgd.ext4;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/** One directory entry other than {@code .} and {@code ..}: the raw name bytes and the inode number. */
public record DirEntry(byte[] rawName, long inode) {

  /** Orders entries bytewise (unsigned) by name, the order exports and listings use. */
  public static final Comparator<DirEntry> BY_NAME = (a, b) -> Arrays.compareUnsigned(a.rawName, b.rawName);

  /**
   * The name bytes as a string with one char per byte (ISO-8859-1), a lossless carrier for names that are not valid
   * UTF-8; encode it back with ISO-8859-1 to get the raw bytes.
   */
  public String rawString() {
    return new String(rawName, StandardCharsets.ISO_8859_1);
  }

  /** The name decoded as UTF-8 (invalid sequences become U+FFFD). */
  public String name() {
    return new String(rawName, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DirEntry d && d.inode == inode && Arrays.equals(d.rawName, rawName);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(rawName) * 31 + Long.hashCode(inode);
  }

  @Override
  public String toString() {
    return name() + " -> " + inode;
  }
}
