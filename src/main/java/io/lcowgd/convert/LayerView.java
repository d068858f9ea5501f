package io.lcowgd.convert;

import io.lcowgd.ext4.DirEntry;
import io.lcowgd.ext4.Ext4Inode;
import io.lcowgd.ext4.Ext4Reader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tree one layer contributes to a union: for {@link ExportMode#LAYER} the whole filesystem, for
 * {@link ExportMode#SANDBOX} the overlay upper directory {@code /upper} (or the whole filesystem when there is none).
 * In both modes an empty {@code lost+found} directory at the root of the filesystem is not part of the tree (mke2fs and
 * our writer create it; a non-empty one holds files e2fsck recovered or that a layer tar put there, and is kept).
 * Whiteouts (0/0 character devices) and {@code trusted.overlay.opaque=y} directories are part of the tree; the
 * consumers ({@link Ext4ToTar}, {@link LayerChanges}) interpret them. As a {@link TreeView} its handles are inodes.
 */
public record LayerView(Ext4Reader image, ExportMode mode) implements TreeView<Ext4Inode> {
  private static final byte[] LOST_FOUND = "lost+found".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UPPER = "upper".getBytes(StandardCharsets.US_ASCII);

  /** The root directory of this layer's tree. */
  @Override
  public Ext4Inode treeRoot() throws IOException {
    Ext4Inode root = image.root();
    if (mode == ExportMode.SANDBOX) {
      for (DirEntry e : image.list(root)) {
        if (Arrays.equals(e.rawName(), UPPER)) {
          Ext4Inode up = image.inode(e.inode());
          if (up.isDirectory()) {
            return up;
          }
        }
      }
    }
    return root;
  }

  /**
   * The children of directory {@code dir} of this tree, sorted bytewise by name; at the filesystem root an empty
   * {@code lost+found} is left out.
   */
  public List<DirEntry> children(Ext4Inode dir) throws IOException {
    List<DirEntry> list = new ArrayList<>(image.list(dir));
    if (dir.number() == Ext4Reader.ROOT_INODE) {
      list.removeIf(e -> Arrays.equals(e.rawName(), LOST_FOUND) && isEmptyDir(e));
    }
    list.sort(DirEntry.BY_NAME);
    return list;
  }

  private boolean isEmptyDir(DirEntry e) {
    try {
      Ext4Inode i = image.inode(e.inode());
      return i.isDirectory() && image.list(i).isEmpty();
    } catch (IOException ex) {
      return false; // a broken lost+found is kept, so the export reports the error when it reads it
    }
  }

  /** {@link #children} as names whose inodes are read when asked for. */
  @Override
  public List<Child> entries(Ext4Inode dir) throws IOException {
    List<DirEntry> kids = children(dir);
    List<Child> out = new ArrayList<>(kids.size());
    for (DirEntry e : kids) {
      out.add(new Child(image, e));
    }
    return out;
  }

  /** Whether {@code dir} carries the overlay opaque marker {@code trusted.overlay.opaque=y}. */
  @Override
  public boolean isOpaque(Ext4Inode dir) throws IOException {
    return LayerTarEmitter.isOpaque(image.xattrs(dir));
  }

  @Override
  public boolean isWhiteout(Ext4Inode node) {
    return node.isWhiteout();
  }

  @Override
  public int mode(Ext4Inode node) {
    return node.mode();
  }

  @Override
  public long uid(Ext4Inode node) {
    return node.uid();
  }

  @Override
  public long gid(Ext4Inode node) {
    return node.gid();
  }

  @Override
  public long size(Ext4Inode node) {
    return node.size();
  }

  @Override
  public Instant mtime(Ext4Inode node) {
    return node.mtime();
  }

  @Override
  public long links(Ext4Inode node) {
    return node.links();
  }

  @Override
  public long inodeNumber(Ext4Inode node) {
    return node.number();
  }

  @Override
  public byte[] linkTarget(Ext4Inode link) throws IOException {
    return image.readLink(link);
  }

  /** One directory entry of an image; {@link #node()} reads its inode. */
  public record Child(Ext4Reader image, DirEntry entry) implements TreeView.Child<Ext4Inode> {
    @Override
    public byte[] rawName() {
      return entry.rawName();
    }

    @Override
    public Ext4Inode node() throws IOException {
      return image.inode(entry.inode());
    }
  }
}
