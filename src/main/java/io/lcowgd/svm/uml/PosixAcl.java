package io.lcowgd.svm.uml;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Grants and revokes one named-user entry in a file's POSIX access ACL ({@code system.posix_acl_access}, the
 * kernel's binary xattr format: version 2, then {@code tag:u16 perm:u16 id:u32} entries sorted by tag and id),
 * leaving every other entry and the file's contents untouched. The JDK cannot write {@code system.*} xattrs and the
 * {@code acl} package is not needed: libc's {@code getxattr}/{@code setxattr}/{@code removexattr} through JNA.
 */
final class PosixAcl {
  private PosixAcl() {}

  static final int READ = 4;
  static final int WRITE = 2;

  private static final String NAME = "system.posix_acl_access";
  private static final int VERSION = 2;
  private static final int USER_OBJ = 0x01;
  private static final int USER = 0x02;
  private static final int GROUP_OBJ = 0x04;
  private static final int GROUP = 0x08;
  private static final int MASK = 0x10;
  private static final int OTHER = 0x20;
  private static final int ENODATA = 61;
  private static final int ERANGE = 34;
  private static final int EOPNOTSUPP = 95;

  private interface Xattr extends Library {
    Xattr C = Native.load("c", Xattr.class);

    long getxattr(String path, String name, byte[] value, long size) throws LastErrorException;

    int setxattr(String path, String name, byte[] value, long size, int flags) throws LastErrorException;

    int removexattr(String path, String name) throws LastErrorException;
  }

  private record Entry(int tag, int perm, long id) {}

  /** The file system of the file does not support POSIX ACLs ({@code EOPNOTSUPP}). */
  static final class UnsupportedException extends IOException {
    UnsupportedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Adds (or replaces) the entry {@code user:<uid>:<perm>} on {@code file} ({@code perm} of {@link #READ}, {@link #WRITE}). */
  static synchronized void grant(Path file, int uid, int perm) throws IOException {
    List<Entry> acl = read(file);
    acl.removeIf(e -> e.tag() == USER && e.id() == uid);
    acl.add(new Entry(USER, perm, uid));
    write(file, acl);
  }

  /**
   * Removes the entry of {@code uid} from {@code file}'s ACL; when no named entry is left the ACL xattr is removed
   * and the mode's group bits get the owning group's permissions back. A missing file or entry is not an error.
   */
  static synchronized void revoke(Path file, int uid) throws IOException {
    if (!Files.exists(file)) {
      return;
    }
    List<Entry> acl = read(file);
    if (!acl.removeIf(e -> e.tag() == USER && e.id() == uid)) {
      return;
    }
    if (acl.stream().anyMatch(e -> e.tag() == USER || e.tag() == GROUP)) {
      write(file, acl);
      return;
    }
    int groupObj = acl.stream().filter(e -> e.tag() == GROUP_OBJ).mapToInt(Entry::perm).findFirst().orElse(0);
    try {
      Xattr.C.removexattr(file.toString(), NAME);
    } catch (LastErrorException e) {
      if (e.getErrorCode() != ENODATA) {
        throw new IOException("remove the ACL of " + file + ": errno " + e.getErrorCode(), e);
      }
    }
    int mode = (Integer) Files.getAttribute(file, "unix:mode") & 07777;
    Files.setAttribute(file, "unix:mode", (mode & ~070) | (groupObj << 3));
  }

  /** The permission bits {@code uid}'s own entry grants on {@code file}, or -1 when it has none. */
  static int entry(Path file, int uid) throws IOException {
    return read(file).stream().filter(e -> e.tag() == USER && e.id() == uid).mapToInt(Entry::perm).findFirst()
        .orElse(-1);
  }

  private static List<Entry> read(Path file) throws IOException {
    byte[] buf = new byte[256];
    long n;
    while (true) {
      try {
        n = Xattr.C.getxattr(file.toString(), NAME, buf, buf.length);
        break;
      } catch (LastErrorException e) {
        if (e.getErrorCode() == ENODATA || e.getErrorCode() == EOPNOTSUPP) {
          return fromMode(file); // no ACL (or none possible): the mode is the whole story
        }
        if (e.getErrorCode() == ERANGE && buf.length < 1 << 20) {
          buf = new byte[buf.length * 4];
          continue;
        }
        throw new IOException("read the ACL of " + file + ": errno " + e.getErrorCode(), e);
      }
    }
    ByteBuffer b = ByteBuffer.wrap(buf, 0, (int) n).order(ByteOrder.LITTLE_ENDIAN);
    if (n < 4 || (n - 4) % 8 != 0 || b.getInt() != VERSION) {
      throw new IOException("the ACL xattr of " + file + " is malformed (" + n + " bytes)");
    }
    List<Entry> out = new ArrayList<>();
    while (b.hasRemaining()) {
      out.add(new Entry(b.getShort() & 0xffff, b.getShort() & 0xffff, b.getInt() & 0xffffffffL));
    }
    return out;
  }

  /** The minimal ACL equivalent to {@code file}'s mode. */
  private static List<Entry> fromMode(Path file) throws IOException {
    int mode = (Integer) Files.getAttribute(file, "unix:mode");
    List<Entry> out = new ArrayList<>();
    out.add(new Entry(USER_OBJ, (mode >> 6) & 7, 0xffffffffL));
    out.add(new Entry(GROUP_OBJ, (mode >> 3) & 7, 0xffffffffL));
    out.add(new Entry(OTHER, mode & 7, 0xffffffffL));
    return out;
  }

  /** Writes {@code acl} with its mask recomputed (union of the group class), sorted as the kernel requires. */
  private static void write(Path file, List<Entry> acl) throws IOException {
    List<Entry> all = new ArrayList<>(acl);
    all.removeIf(e -> e.tag() == MASK);
    int mask = 0;
    for (Entry e : all) {
      if (e.tag() == USER || e.tag() == GROUP || e.tag() == GROUP_OBJ) {
        mask |= e.perm();
      }
    }
    all.add(new Entry(MASK, mask, 0xffffffffL));
    all.sort(Comparator.comparingInt(Entry::tag).thenComparingLong(Entry::id));
    ByteBuffer b = ByteBuffer.allocate(4 + 8 * all.size()).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(VERSION);
    for (Entry e : all) {
      b.putShort((short) e.tag()).putShort((short) e.perm()).putInt((int) e.id());
    }
    try {
      Xattr.C.setxattr(file.toString(), NAME, b.array(), b.capacity(), 0);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == EOPNOTSUPP) {
        throw new UnsupportedException("set the ACL of " + file + ": the file system does not support POSIX ACLs", e);
      }
      throw new IOException("set the ACL of " + file + " (errno " + e.getErrorCode() + ")", e);
    }
  }
}
