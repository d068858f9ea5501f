package io.lcowgd.cli;

import io.lcowgd.ext4.DirEntry;
import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.ext4.Ext4Superblock;
import io.lcowgd.image.ContainerType;
import io.lcowgd.image.DiskImages;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code lcow inspect IMAGE}: container type, superblock summary, features and an {@code ls -lR}-like listing. */
public final class InspectCommand implements Command {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
      .withZone(ZoneOffset.UTC);

  private static final int MAX_DEPTH = 1024;

  @Override
  public String name() {
    return "inspect";
  }

  @Override
  public String usage() {
    return "IMAGE   show container type, superblock, features and the file tree";
  }

  @Override
  public int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
    if (args.size() != 1 || args.get(0).startsWith("-")) {
      err.println("usage: lcow inspect " + usage());
      return 2;
    }
    Path path = Path.of(args.get(0));
    ContainerType type = DiskImages.detect(path);
    try (Ext4Reader r = Ext4Reader.open(DiskImages.open(path))) {
      Ext4Superblock sb = r.superblock();
      out.println("container:        " + type + " (" + r.diskSize() + " bytes of disk)");
      out.println("filesystem:       ext4, block size " + sb.blockSize() + ", " + sb.blocksCount() + " blocks ("
          + sb.freeBlocksCount() + " free), " + sb.inodesCount() + " inodes (" + sb.freeInodesCount() + " free)");
      out.println("groups:           " + sb.groupCount() + " x " + sb.blocksPerGroup() + " blocks, "
          + sb.inodesPerGroup() + " inodes per group, inode size " + sb.inodeSize() + ", descriptor size "
          + sb.descSize());
      out.println("uuid:             " + sb.uuid() + (sb.volumeName().isEmpty() ? "" : ", label " + sb.volumeName()));
      out.println("state:            " + (sb.state() & 1) + (r.needsRecovery() ? " (journal needs recovery)" : ""));
      out.println("features:         " + String.join(" ", sb.featureNames()));
      out.println();
      listing(r, r.root(), "/", out, new HashSet<>(), 0);
    }
    return 0;
  }

  private void listing(Ext4Reader r, Ext4Inode dir, String path, PrintStream out, Set<Long> seen, int depth)
      throws Exception {
    if (depth > MAX_DEPTH) {
      throw new io.lcowgd.ext4.Ext4Exception(path + ": directories nested deeper than " + MAX_DEPTH);
    }
    if (!seen.add(dir.number())) {
      throw new io.lcowgd.ext4.Ext4Exception(path + ": directory inode " + dir.number() + " reachable twice");
    }
    List<DirEntry> entries = new ArrayList<>(r.list(dir));
    entries.sort(DirEntry.BY_NAME);
    out.println(path + ":");
    List<Ext4Inode> subdirs = new ArrayList<>();
    List<String> subnames = new ArrayList<>();
    for (DirEntry e : entries) {
      Ext4Inode ino = r.inode(e.inode());
      String extra = "";
      String size = Long.toString(ino.size());
      if (ino.isSymlink()) {
        extra = " -> " + new String(r.readLink(ino), StandardCharsets.UTF_8);
      } else if (ino.isCharDevice() || ino.type() == Ext4Inode.S_IFBLK) {
        size = ino.deviceMajor() + ", " + ino.deviceMinor();
        if (ino.isWhiteout()) {
          extra = " (whiteout)";
        }
      }
      Map<String, byte[]> x = r.xattrs(ino);
      String xs = x.isEmpty() ? "" : "  [" + String.join(" ", x.keySet()) + "]";
      out.printf("%6d %s %3d %6d %6d %10s %s %s%s%s%n", ino.number(), modeString(ino.mode()), ino.links(),
          ino.uid(), ino.gid(), size, TIME.format(ino.mtime()), e.name(), extra, xs);
      if (ino.isDirectory()) {
        subdirs.add(ino);
        subnames.add(e.name());
      }
    }
    for (int i = 0; i < subdirs.size(); i++) {
      out.println();
      listing(r, subdirs.get(i), (path.equals("/") ? "/" : path + "/") + subnames.get(i), out, seen, depth + 1);
    }
  }

  /** {@code ls -l} style mode string, e.g. {@code drwxr-xr-x}. */
  static String modeString(int mode) {
    char t;
    switch (mode & Ext4Inode.S_IFMT) {
      case Ext4Inode.S_IFDIR: t = 'd'; break;
      case Ext4Inode.S_IFLNK: t = 'l'; break;
      case Ext4Inode.S_IFCHR: t = 'c'; break;
      case Ext4Inode.S_IFBLK: t = 'b'; break;
      case Ext4Inode.S_IFIFO: t = 'p'; break;
      case Ext4Inode.S_IFSOCK: t = 's'; break;
      default: t = '-';
    }
    StringBuilder b = new StringBuilder().append(t);
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      b.append((mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
    }
    if ((mode & 04000) != 0) {
      b.setCharAt(3, (mode & 0100) != 0 ? 's' : 'S');
    }
    if ((mode & 02000) != 0) {
      b.setCharAt(6, (mode & 010) != 0 ? 's' : 'S');
    }
    if ((mode & 01000) != 0) {
      b.setCharAt(9, (mode & 01) != 0 ? 't' : 'T');
    }
    return b.toString();
  }
}
