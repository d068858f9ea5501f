package io.lcowgd.ext4;

import io.lcowgd.testing.TreeCompare;
import io.lcowgd.testing.Xattrs;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A canonical one-line description of every path of a tree (type, permissions, owner, links, size, mtime with
 * nanoseconds, device numbers, symlink target, content digest, xattrs), taken from a kernel mount or from
 * {@link Ext4Reader}, so the two can be compared.
 */
public final class TreeSnapshot {
  private TreeSnapshot() {}

  public static Map<String, String> ofMount(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    walkMount(root, root, out);
    return out;
  }

  private static void walkMount(Path root, Path dir, Map<String, String> out) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        Map<String, Object> a = Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        long rdev = (Long) a.get("rdev");
        int major = (int) TreeCompare.major(rdev);
        int minor = (int) TreeCompare.minor(rdev);
        String extra = "";
        int type = mode & Ext4Inode.S_IFMT;
        if (type == Ext4Inode.S_IFREG) {
          try (InputStream in = Files.newInputStream(p)) {
            extra = digest(in);
          }
        } else if (type == Ext4Inode.S_IFLNK) {
          extra = "-> " + Files.readSymbolicLink(p);
        } else if (type == Ext4Inode.S_IFCHR || type == Ext4Inode.S_IFBLK) {
          extra = major + ":" + minor;
        }
        StringBuilder x = new StringBuilder();
        for (Map.Entry<String, byte[]> xa : Xattrs.read(p).entrySet()) {
          x.append(' ').append(xa.getKey()).append('=').append(HexFormat.of().formatHex(xa.getValue()));
        }
        String rel = root.relativize(p).toString();
        out.put(rel, line(mode, ((Number) a.get("uid")).longValue(), ((Number) a.get("gid")).longValue(),
            (Integer) a.get("nlink"), (Long) a.get("size"), (FileTime) a.get("lastModifiedTime"), extra, x));
        if (type == Ext4Inode.S_IFDIR) {
          walkMount(root, p, out);
        }
      }
    }
  }

  public static Map<String, String> ofReader(Ext4Reader r) throws IOException {
    Map<String, String> out = new TreeMap<>();
    walkReader(r, r.root(), "", out);
    return out;
  }

  private static void walkReader(Ext4Reader r, Ext4Inode dir, String prefix, Map<String, String> out)
      throws IOException {
    List<DirEntry> entries = r.list(dir);
    for (DirEntry e : entries) {
      Ext4Inode ino = r.inode(e.inode());
      String extra = "";
      if (ino.isRegular()) {
        extra = digestOf(r, ino);
      } else if (ino.isSymlink()) {
        extra = "-> " + new String(r.readLink(ino), java.nio.charset.StandardCharsets.UTF_8);
      } else if (ino.isCharDevice() || ino.type() == Ext4Inode.S_IFBLK) {
        extra = ino.deviceMajor() + ":" + ino.deviceMinor();
      }
      StringBuilder x = new StringBuilder();
      for (Map.Entry<String, byte[]> xa : r.xattrs(ino).entrySet()) {
        x.append(' ').append(xa.getKey()).append('=').append(HexFormat.of().formatHex(xa.getValue()));
      }
      String rel = prefix + e.name();
      out.put(rel, line(ino.mode(), ino.uid(), ino.gid(), ino.links(), ino.size(), FileTime.from(ino.mtime()), extra,
          x));
      if (ino.isDirectory()) {
        walkReader(r, ino, rel + "/", out);
      }
    }
  }

  private static String line(int mode, long uid, long gid, int nlink, long size, FileTime mtime, String extra,
      StringBuilder xattrs) {
    return String.format("%o %d:%d n%d s%d m%s %s%s", mode, uid, gid, nlink, size, mtime.toInstant(), extra, xattrs);
  }

  public static String digestOf(Ext4Reader r, Ext4Inode ino) throws IOException {
    MessageDigest md = sha256();
    r.copyData(ino, new OutputStream() {
      @Override
      public void write(int b) {
        md.update((byte) b);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        md.update(b, off, len);
      }
    });
    return HexFormat.of().formatHex(md.digest());
  }

  public static String digest(InputStream in) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    int n;
    while ((n = in.read(buf)) > 0) {
      md.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
