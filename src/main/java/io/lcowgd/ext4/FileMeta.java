package io.lcowgd.ext4;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Metadata of one file as the {@link Ext4Writer} stores it in an inode.
 *
 * @param permissions permission and special bits ({@code 07777}: rwx, setuid, setgid, sticky); type bits are ignored
 * @param uid owner id (32-bit)
 * @param gid group id (32-bit)
 * @param mtime modification time (nanosecond precision; clamped to ext4's range 1901..2446)
 * @param atime access time
 * @param ctime change time
 * @param xattrs extended attributes by full name ({@code security.capability}); values are raw bytes
 */
public record FileMeta(
    int permissions, long uid, long gid, Instant mtime, Instant atime, Instant ctime,
    SortedMap<String, byte[]> xattrs) {

  /** Largest uid/gid ext4 can store. */
  public static final long MAX_ID = 0xFFFF_FFFFL;

  public FileMeta {
    Objects.requireNonNull(mtime, "mtime");
    Objects.requireNonNull(atime, "atime");
    Objects.requireNonNull(ctime, "ctime");
    if (uid < 0 || uid > MAX_ID || gid < 0 || gid > MAX_ID) {
      throw new IllegalArgumentException("uid/gid out of range: " + uid + "/" + gid);
    }
    permissions &= 07777;
    xattrs = Collections.unmodifiableSortedMap(new TreeMap<>(xattrs == null ? Map.of() : xattrs));
  }

  /** Metadata with all three times equal to {@code mtime} and no xattrs. */
  public static FileMeta of(int permissions, long uid, long gid, Instant mtime) {
    return new FileMeta(permissions, uid, gid, mtime, mtime, mtime, null);
  }

  /** Root-owned metadata with all times at the epoch (used for implicit parents, root, whiteouts). */
  public static FileMeta rootOwned(int permissions) {
    return of(permissions, 0, 0, Instant.EPOCH);
  }

  /** A copy with {@code xattrs} replaced. */
  public FileMeta withXattrs(Map<String, byte[]> newXattrs) {
    return new FileMeta(permissions, uid, gid, mtime, atime, ctime, new TreeMap<>(newXattrs));
  }
}
