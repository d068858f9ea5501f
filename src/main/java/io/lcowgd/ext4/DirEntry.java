package io.lcowgd.ext4;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/** One directory entry other than {@code .} and {@code ..}: the raw name bytes and the inode number. */
public record DirEntry(byte[] rawName, long inode) {

  /** Orders entries bytewise (unsigned) by name, the order exports and listings use. */
  public static final Comparator<DirEntry> BY_NAME = (a, b) -> Arrays.compareUnsigned(a.rawName, b.rawName);

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
