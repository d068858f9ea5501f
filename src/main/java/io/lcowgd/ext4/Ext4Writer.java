package io.lcowgd.ext4;

import io.lcowgd.ext4.format.CompatFeature;
import io.lcowgd.ext4.format.DirectoryEntry;
import io.lcowgd.ext4.format.Ext4Time;
import io.lcowgd.ext4.format.GroupDescriptor;
import io.lcowgd.ext4.format.IncompatFeature;
import io.lcowgd.ext4.format.Inode;
import io.lcowgd.ext4.format.InodeFlag;
import io.lcowgd.ext4.format.RoCompatFeature;
import io.lcowgd.ext4.format.Superblock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Writes a compact, read-only ext4 filesystem image for one container layer, streaming file contents straight to
 * their final place; the caller describes the tree with path operations, then calls {@link #finish()}.
 *
 * <h2>Layout</h2>
 * <pre>
 * block 0                superblock at byte 1024 (written last)
 * 1 .. R                 group descriptor table, R = blocks needed for the groups of maxDiskSize (unused ones free)
 * R+1 ..                 file data in call order, each file contiguous, block aligned
 * then                   directories (depth first, children sorted by name bytes), extent tree blocks of big files,
 *                        xattr blocks, the inode tables of all groups, then block + inode bitmap per group
 * </pre>
 * Heap use grows with the number of inodes and directory entries, never with file sizes.
 *
 * <h2>Features, chosen deliberately</h2>
 * <ul>
 *   <li>4 KiB blocks, 32768 blocks per group, 256-byte inodes with {@code i_extra_isize} 32 (ns timestamps,
 *       crtime; 96 spare bytes for in-inode xattrs), 32-byte group descriptors (no {@code 64bit}: 16 TiB is ample).
 *   <li>compat {@code ext_attr}, {@code sparse_super2} with no backup superblocks (nothing to repair on a read-only
 *       layer). incompat {@code filetype}, {@code extents}, {@code flex_bg} (metadata packed at the end).
 *   <li>ro_compat {@code large_file}, {@code huge_file}, {@code extra_isize}, {@code dir_nlink} (more than 65000
 *       subdirectories), and {@code readonly}: the image is sized to its content with no free space, so it must
 *       never be mounted read-write.
 *   <li>Not used: journal, {@code dir_index} (linear directories are valid at any size; htree is an optimisation
 *       the kernel ignores on read-only mounts only for lookups), {@code metadata_csum} (keeps the image readable by
 *       the same kernels as hcsshim's tar2ext4), inline data (not DAX-compatible), {@code resize_inode}.
 *   <li>Deterministic: no clocks, no randomness. The UUID is derived from CRC-32C digests of the metadata written
 *       (inode tables and directory blocks), the block count and the inode count; superblock times and the hash
 *       seed are zero.
 * </ul>
 *
 * <h2>Tree semantics</h2> Paths are relative, {@code /}-separated, already cleaned (no {@code .}, {@code ..} or empty
 * components; {@code ""} is the root). Missing parent directories are created (0755, root, time 0); a parent that is
 * a symlink is followed inside the image (absolute targets start at its root, ".." stops there). Creating any
 * non-directory replaces what is at the path (a replaced directory loses its subtree); {@link #directory} on an
 * existing directory updates its metadata and merges xattrs. A replaced inode that still has other hard links
 * survives; otherwise its blocks are marked free. Errors are sticky: after the first failure every call (and
 * {@link #finish}) throws again.
 */
public final class Ext4Writer {
  /** Block size of every image. */
  public static final int BLOCK_SIZE = 4096;
  /** Upper bound for {@link Config#maxDiskSize}: 2^32 blocks. */
  public static final long MAX_DISK_SIZE_LIMIT = (1L << 32) * BLOCK_SIZE;
  /** Most names one non-directory inode may have. */
  public static final int MAX_LINKS = 65000;
  /** Longest symlink target. */
  public static final int MAX_SYMLINK = BLOCK_SIZE - 1;

  static final int INODE_SIZE = 256;
  static final int EXTRA_ISIZE = Inode.EXTRA_ISIZE_FULL;
  static final int INODE_XATTR_AREA = INODE_SIZE - Inode.BASE_SIZE - EXTRA_ISIZE;
  static final int BLOCKS_PER_GROUP = 32768;
  static final int DESC_SIZE = GroupDescriptor.SIZE_32;
  static final int DESCS_PER_BLOCK = BLOCK_SIZE / DESC_SIZE;
  static final int LOST_FOUND_INO = 11;
  static final int FAST_SYMLINK_MAX = Inode.I_BLOCK_LEN - 1;

  /**
   * Writer settings.
   *
   * @param maxDiskSize largest image the writer may produce, in bytes (also sizes the reserved descriptor table);
   *     writes beyond it fail
   * @param bufferSize size of the sequential write buffer
   */
  public record Config(long maxDiskSize, int bufferSize) {
    public Config {
      if (maxDiskSize < 1 << 20 || maxDiskSize > MAX_DISK_SIZE_LIMIT) {
        throw new IllegalArgumentException("maxDiskSize must be in [1 MiB, 16 TiB], got " + maxDiskSize);
      }
      if (bufferSize < BLOCK_SIZE || bufferSize % BLOCK_SIZE != 0) {
        throw new IllegalArgumentException("bufferSize must be a positive multiple of 4096, got " + bufferSize);
      }
    }

    /** 128 GiB maximum (as moby passes to tar2ext4), 4 MiB buffer. */
    public static Config defaults() {
      return new Config(128L << 30, 4 << 20);
    }

    public Config withMaxDiskSize(long bytes) {
      return new Config(bytes, bufferSize);
    }
  }

  /** Device node kinds for {@link #device}. */
  public enum DeviceType { CHAR, BLOCK }

  private final FileChannel out;
  private final Config config;
  private final long maxBlocks;
  private final int reservedGdtBlocks;
  private final BlockAppender appender;
  private final ArrayList<Node> inodes = new ArrayList<>();
  private final List<long[]> freedRuns = new ArrayList<>();
  private final Node root;
  private IOException failure;
  private boolean finished;
  private long imageSize;
  private byte[] uuid;

  /**
   * Starts an image in {@code out}, which must be empty (zero regions are left as holes); the writer does not close it.
   */
  public Ext4Writer(FileChannel out, Config config) throws IOException {
    if (out.size() != 0) {
      throw new IllegalArgumentException("the image file must be empty, it has " + out.size() + " bytes");
    }
    this.out = out;
    this.config = config;
    this.maxBlocks = config.maxDiskSize() / BLOCK_SIZE;
    long maxGroups = (maxBlocks + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP;
    this.reservedGdtBlocks = (int) ((maxGroups + DESCS_PER_BLOCK - 1) / DESCS_PER_BLOCK);
    this.appender = new BlockAppender(out, BLOCK_SIZE, 1 + reservedGdtBlocks, config.bufferSize());
    for (int i = 0; i < LOST_FOUND_INO; i++) {
      inodes.add(null);
    }
    root = new Node(Inode.ROOT_INO, Inode.S_IFDIR | 0755);
    root.children = new HashMap<>();
    root.parent = root;
    inodes.set(Inode.ROOT_INO, root);
    // "The lost+found directory is required to exist for e2fsck to pass."
    Node lpf = newNode(Inode.S_IFDIR, FileMeta.rootOwned(0700));
    lpf.children = new HashMap<>();
    link(root, "lost+found", lpf);
  }

  // ---- tree operations -------------------------------------------------------------------------------------------

  /** Creates the directory at {@code path}, or updates the metadata of the directory already there. */
  public void directory(String path, FileMeta meta) throws IOException {
    check();
    try {
      if (path.isEmpty()) {
        apply(root, meta, true);
        return;
      }
      Node parent = parentOf(path);
      String name = baseName(path);
      Node existing = parent.children.get(name);
      if (existing != null && existing.isDir()) {
        apply(existing, meta, true);
        return;
      }
      Node dir = newNode(Inode.S_IFDIR, meta);
      dir.children = new HashMap<>();
      replace(parent, name, dir);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** Creates a regular file at {@code path} with exactly {@code size} bytes read from {@code data}. */
  public void file(String path, FileMeta meta, long size, InputStream data) throws IOException {
    check();
    try {
      Node parent = parentForNew(path);
      long blocks = reserve(path, size);
      Node f = newNode(Inode.S_IFREG, meta);
      f.size = size;
      f.dataBlocks = blocks;
      f.dataStart = blocks == 0 ? 0 : appender.append(data, size);
      replace(parent, baseName(path), f);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /**
   * Creates a regular file at {@code path} whose {@code size} bytes are copied by the kernel from {@code src} at
   * {@code srcOffset} (the channel's position is not used or changed).
   */
  public void file(String path, FileMeta meta, long size, FileChannel src, long srcOffset) throws IOException {
    check();
    try {
      Node parent = parentForNew(path);
      long blocks = reserve(path, size);
      Node f = newNode(Inode.S_IFREG, meta);
      f.size = size;
      f.dataBlocks = blocks;
      f.dataStart = blocks == 0 ? 0 : appender.transfer(src, srcOffset, size);
      replace(parent, baseName(path), f);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** Creates a symbolic link; targets under 60 bytes live in the inode, longer ones in a data block. */
  public void symlink(String path, FileMeta meta, String target) throws IOException {
    check();
    try {
      byte[] t = target.getBytes(StandardCharsets.UTF_8);
      if (t.length == 0 || t.length > MAX_SYMLINK) {
        throw new FileSystemException(path, null, "symlink target length " + t.length + " not in [1, " + MAX_SYMLINK + "]");
      }
      Node parent = parentForNew(path);
      Node s = newNode(Inode.S_IFLNK, meta);
      s.mode = Inode.S_IFLNK | 0777;
      s.size = t.length;
      s.target = target;
      if (t.length <= FAST_SYMLINK_MAX) {
        s.iblock = Arrays.copyOf(t, Inode.I_BLOCK_LEN);
      } else {
        reserve(path, t.length);
        s.dataBlocks = 1;
        s.dataStart = appender.append(t, 0, t.length);
      }
      replace(parent, baseName(path), s);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** Creates a character or block device node. */
  public void device(String path, FileMeta meta, DeviceType type, long major, long minor) throws IOException {
    check();
    try {
      if (major < 0 || major > 0xFFF || minor < 0 || minor > 0xFFFFF) {
        throw new FileSystemException(path, null, "device number out of range: " + major + ":" + minor);
      }
      Node parent = parentForNew(path);
      Node d = newNode(type == DeviceType.CHAR ? Inode.S_IFCHR : Inode.S_IFBLK, meta);
      Inode tmp = new Inode();
      tmp.setDeviceNumbers(major, minor);
      d.iblock = tmp.block;
      replace(parent, baseName(path), d);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** Creates a FIFO. */
  public void fifo(String path, FileMeta meta) throws IOException {
    special(path, meta, Inode.S_IFIFO);
  }

  /** Creates a unix socket node. */
  public void socket(String path, FileMeta meta) throws IOException {
    special(path, meta, Inode.S_IFSOCK);
  }

  private void special(String path, FileMeta meta, int type) throws IOException {
    check();
    try {
      Node parent = parentForNew(path);
      Node n = newNode(type, meta);
      n.iblock = new byte[Inode.I_BLOCK_LEN];
      replace(parent, baseName(path), n);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /**
   * Makes {@code path} another name for the inode currently at {@code target} (a hard link binds to the inode at
   * this moment: replacing {@code target} later does not affect {@code path}). The target must exist and must not be
   * a directory; whatever is at {@code path} is replaced.
   */
  public void hardLink(String path, String target) throws IOException {
    check();
    try {
      Node t = lookup(target);
      if (t == null) {
        throw new NoSuchFileException(target, path, "hard link target does not exist");
      }
      if (t.isDir()) {
        throw new FileSystemException(target, path, "hard link target is a directory");
      }
      Node parent = parentForNew(path);
      String name = baseName(path);
      if (parent.children.get(name) == t) {
        return;
      }
      if (t.links >= MAX_LINKS) {
        throw new FileSystemException(target, path, "too many hard links (ext4 allows " + MAX_LINKS + ")");
      }
      replace(parent, name, t);
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** Sets (adds or replaces) one extended attribute of the inode at {@code path}. */
  public void setXattr(String path, String name, byte[] value) throws IOException {
    check();
    try {
      Node n = lookup(path);
      if (n == null) {
        throw new NoSuchFileException(path);
      }
      if (n.xattrs == null) {
        n.xattrs = new TreeMap<>();
      }
      n.xattrs.put(name, value.clone());
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** True if something exists at {@code path}. */
  public boolean exists(String path) throws IOException {
    check();
    try {
      return lookup(path) != null;
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /** True if a directory exists at {@code path}. */
  public boolean isDirectory(String path) throws IOException {
    check();
    try {
      Node n = lookup(path);
      return n != null && n.isDir();
    } catch (IOException e) {
      throw fail(e);
    }
  }

  /** Bytes of the image so far (data written), for progress and limits. */
  public long bytesUsed() {
    return appender.nextBlock() * BLOCK_SIZE;
  }

  // ---- finishing -------------------------------------------------------------------------------------------------

  /**
   * Writes directories, inode tables, bitmaps, group descriptors and the superblock, sets the file length, and
   * returns the image size in bytes (a multiple of 4096). Calling it again returns the same size.
   */
  public long finish() throws IOException {
    check();
    if (finished) {
      return imageSize;
    }
    try {
      imageSize = new Finisher().run();
      finished = true;
      return imageSize;
    } catch (IOException | RuntimeException e) {
      throw fail(e);
    }
  }

  /** The filesystem UUID (derived from the metadata); available after {@link #finish()}. */
  public byte[] uuid() {
    if (!finished) {
      throw new IllegalStateException("uuid is known only after finish()");
    }
    return uuid.clone();
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private void check() throws IOException {
    if (failure != null) {
      throw new IOException("ext4 writer failed earlier: " + failure.getMessage(), failure);
    }
  }

  private IOException fail(Exception e) {
    IOException io = e instanceof IOException ? (IOException) e : new IOException(e.getMessage(), e);
    if (failure == null) {
      failure = io;
    }
    return io;
  }

  private long reserve(String path, long size) throws IOException {
    if (size < 0) {
      throw new FileSystemException(path, null, "negative size " + size);
    }
    long blocks = (size + BLOCK_SIZE - 1) / BLOCK_SIZE;
    if (appender.nextBlock() + blocks > maxBlocks) {
      throw new FileSystemException(path, null, "image would exceed the maximum disk size of "
          + config.maxDiskSize() + " bytes (file of " + size + " bytes)");
    }
    return blocks;
  }

  private Node newNode(int type, FileMeta meta) {
    Node n = new Node(inodes.size(), type);
    inodes.add(n);
    apply(n, meta, false);
    return n;
  }

  private static void apply(Node n, FileMeta m, boolean mergeXattrs) {
    n.mode = (n.mode & Inode.S_IFMT) | (m.permissions() & 07777);
    n.uid = m.uid();
    n.gid = m.gid();
    n.mtime = seconds(m.mtime());
    n.mtimeNs = nanos(m.mtime());
    n.atime = seconds(m.atime());
    n.atimeNs = nanos(m.atime());
    n.ctime = seconds(m.ctime());
    n.ctimeNs = nanos(m.ctime());
    n.crtime = n.mtime;
    n.crtimeNs = n.mtimeNs;
    if (!m.xattrs().isEmpty()) {
      if (n.xattrs == null || !mergeXattrs) {
        n.xattrs = new TreeMap<>();
      }
      for (Map.Entry<String, byte[]> e : m.xattrs().entrySet()) {
        n.xattrs.put(e.getKey(), e.getValue().clone());
      }
    } else if (!mergeXattrs) {
      n.xattrs = null;
    }
  }

  private static long seconds(Instant t) {
    return Ext4Time.clamp(t.getEpochSecond());
  }

  private static int nanos(Instant t) {
    long s = t.getEpochSecond();
    return s < Ext4Time.MIN_SECONDS || s > Ext4Time.MAX_SECONDS ? 0 : t.getNano();
  }

  private static String baseName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static void checkName(String path, String name) throws IOException {
    if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0) {
      throw new FileSystemException(path, null, "invalid path component '" + name + "'");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > DirectoryEntry.MAX_NAME_LEN) {
      throw new FileSystemException(path, null, "name component longer than 255 bytes");
    }
  }

  /** The directory that will hold a new entry at {@code path}, creating missing parents. */
  private Node parentForNew(String path) throws IOException {
    if (path.isEmpty()) {
      throw new FileSystemException("/", null, "cannot replace the root directory");
    }
    return parentOf(path);
  }

  private Node parentOf(String path) throws IOException {
    Node dir = root;
    int start = 0;
    int[] hops = {0};
    while (true) {
      int slash = path.indexOf('/', start);
      String name = slash < 0 ? path.substring(start) : path.substring(start, slash);
      checkName(path, name);
      if (slash < 0) {
        return dir;
      }
      Node next = dir.children.get(name);
      if (next == null) {
        next = newNode(Inode.S_IFDIR, FileMeta.rootOwned(0755));
        next.children = new HashMap<>();
        link(dir, name, next);
      } else if (next.isSymlink()) {
        // Like tar -x and Docker's unpacker, write through a symlinked directory (resolved inside the image).
        Node target = followToDir(dir, next, hops);
        if (target == null) {
          throw new FileSystemException(path.substring(0, slash), null,
              "symlink to '" + next.target + "' does not lead to a directory in the layer");
        }
        next = target;
      } else if (!next.isDir()) {
        throw new FileSystemException(path.substring(0, slash), null, "not a directory");
      }
      dir = next;
      start = slash + 1;
    }
  }

  /**
   * Resolves the symlink {@code link} found in {@code dir} to a directory of this image, treating the image root as
   * {@code /} (".." stops at the root); null if it does not lead to a directory.
   */
  private Node followToDir(Node dir, Node link, int[] hops) throws IOException {
    if (++hops[0] > 40) {
      throw new FileSystemException(link.target, null, "too many levels of symbolic links");
    }
    Node cur = link.target.startsWith("/") ? root : dir;
    for (String c : link.target.split("/")) {
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        cur = cur.parent;
        continue;
      }
      Node n = cur.children.get(c);
      if (n != null && n.isSymlink()) {
        n = followToDir(cur, n, hops);
      }
      if (n == null || !n.isDir()) {
        return null;
      }
      cur = n;
    }
    return cur;
  }

  /** The node at {@code path}, following symlinks in the parent components; null if there is none. */
  private Node lookup(String path) throws IOException {
    if (path.isEmpty()) {
      return root;
    }
    Node n = root;
    int[] hops = {0};
    String[] parts = path.split("/", -1);
    for (int i = 0; i < parts.length; i++) {
      if (n.children == null) {
        return null;
      }
      Node next = n.children.get(parts[i]);
      if (next != null && next.isSymlink() && i < parts.length - 1) {
        next = followToDir(n, next, hops);
      }
      if (next == null) {
        return null;
      }
      n = next;
    }
    return n;
  }

  private static void link(Node dir, String name, Node child) {
    dir.children.put(name, child);
    if (child.isDir()) {
      child.parent = dir;
    }
    child.links++;
  }

  /** Puts {@code child} at {@code dir/name}, releasing what was there. */
  private void replace(Node dir, String name, Node child) throws IOException {
    Node old = dir.children.get(name);
    if (old == child) {
      return;
    }
    if (child.isDir() && isAncestorOrSelf(child, dir)) {
      throw new FileAlreadyExistsException(name, null, "directory cycle");
    }
    if (old != null) {
      dir.children.remove(name);
      unref(old);
    }
    link(dir, name, child);
  }

  private static boolean isAncestorOrSelf(Node maybeAncestor, Node n) {
    for (Node p = n; ; p = p.parent) {
      if (p == maybeAncestor) {
        return true;
      }
      if (p.parent == p) {
        return false;
      }
    }
  }

  /** Drops one name of {@code n}; frees it (and a directory's subtree) when no name is left. */
  private void unref(Node n) {
    n.links--;
    if (n.links > 0) {
      return;
    }
    if (n.isDir()) {
      for (Node c : n.children.values()) {
        unref(c);
      }
      n.children.clear();
    }
    if (n.dataBlocks > 0) {
      freedRuns.add(new long[] {n.dataStart, n.dataBlocks});
    }
    inodes.set(n.ino, null);
  }

  /** Lays out and writes all metadata when the tree is complete. */
  private final class Finisher {
    /** Two independent CRC-32C streams over the metadata, for the UUID (cheap, hardware accelerated). */
    private final CRC32C digest = new CRC32C();
    private final CRC32C digest2 = new CRC32C();
    private final List<Node> dirsInOrder = new ArrayList<>();

    private void hash(byte[] b) {
      digest.update(b);
      digest2.update(b, 0, b.length / 2);
      digest2.update(b.length);
    }

    long run() throws IOException {
      writeDirectories();
      writeExtentTrees();
      writeXattrBlocks();
      return writeTablesAndSuper();
    }

    private void writeDirectories() throws IOException {
      // Depth-first, children sorted by name bytes: deterministic regardless of tar order.
      ArrayList<Node> stack = new ArrayList<>();
      stack.add(root);
      byte[] block = new byte[BLOCK_SIZE];
      while (!stack.isEmpty()) {
        Node d = stack.remove(stack.size() - 1);
        dirsInOrder.add(d);
        byte[][] names = new byte[d.children.size()][];
        Node[] kids = new Node[names.length];
        int i = 0;
        for (Map.Entry<String, Node> e : d.children.entrySet()) {
          names[i] = e.getKey().getBytes(StandardCharsets.UTF_8);
          kids[i] = e.getValue();
          i++;
        }
        Integer[] order = new Integer[names.length];
        for (int k = 0; k < order.length; k++) {
          order[k] = k;
        }
        Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(names[a], names[b]));
        // Pass 1: count blocks.
        long blocks = 1;
        int off = DirectoryEntry.minRecLen(1) + DirectoryEntry.minRecLen(2);
        for (int k : order) {
          int rl = DirectoryEntry.minRecLen(names[k].length);
          if (off + rl > BLOCK_SIZE) {
            blocks++;
            off = 0;
          }
          off += rl;
        }
        if (appender.nextBlock() + blocks > maxBlocks) {
          throw new IOException("image would exceed the maximum disk size of " + config.maxDiskSize() + " bytes");
        }
        // Pass 2: write blocks.
        d.size = blocks * BLOCK_SIZE;
        d.dataBlocks = blocks;
        d.dataStart = appender.nextBlock();
        ByteBuffer b = ByteBuffer.wrap(block);
        Arrays.fill(block, (byte) 0);
        int prev = put(b, d.ino, DirectoryEntry.FT_DIR, new byte[] {'.'});
        prev = put(b, d.parent.ino, DirectoryEntry.FT_DIR, new byte[] {'.', '.'});
        for (int k : order) {
          int rl = DirectoryEntry.minRecLen(names[k].length);
          if (b.position() + rl > BLOCK_SIZE) {
            finishBlock(b, prev, block);
            prev = -1;
          }
          prev = put(b, kids[k].ino, DirectoryEntry.fileTypeOf(kids[k].mode), names[k]);
        }
        finishBlock(b, prev, block);
        // Push subdirectories in reverse so they are laid out in name order.
        for (int k = order.length - 1; k >= 0; k--) {
          Node c = kids[order[k]];
          if (c.isDir()) {
            stack.add(c);
          }
        }
      }
    }

    private int put(ByteBuffer b, long ino, int type, byte[] name) {
      int at = b.position();
      new DirectoryEntry(ino, DirectoryEntry.minRecLen(name.length), type, name).encode(b);
      return at;
    }

    private void finishBlock(ByteBuffer b, int lastEntry, byte[] block) throws IOException {
      // The last entry's rec_len covers the rest of the block.
      int recLen = BLOCK_SIZE - lastEntry;
      block[lastEntry + DirectoryEntry.REC_LEN] = (byte) recLen;
      block[lastEntry + DirectoryEntry.REC_LEN + 1] = (byte) (recLen >>> 8);
      hash(block);
      appender.append(block, 0, BLOCK_SIZE);
      Arrays.fill(block, (byte) 0);
      b.clear();
    }

    private void writeExtentTrees() throws IOException {
      for (Node n : inodes) {
        if (n == null || n.dataBlocks == 0) {
          continue;
        }
        int tb = ExtentTrees.treeBlocks(n.dataBlocks, BLOCK_SIZE);
        if (tb == 0) {
          continue;
        }
        n.treeBlocks = tb;
        n.treeStart = appender.nextBlock();
        ByteBuffer tree = ByteBuffer.allocate(tb * BLOCK_SIZE);
        n.iblock = ExtentTrees.build(n.dataStart, n.dataBlocks, n.treeStart, tree, BLOCK_SIZE);
        appender.append(tree.array(), 0, tree.capacity());
      }
    }

    private final Map<Node, List<XattrPacker.Item>> inodeXattrs = new HashMap<>();

    private void writeXattrBlocks() throws IOException {
      byte[] block = new byte[BLOCK_SIZE];
      for (Node n : inodes) {
        if (n == null || n.xattrs == null || n.xattrs.isEmpty()) {
          continue;
        }
        String where = "inode " + n.ino;
        XattrPacker.Placement p = XattrPacker.place(where, n.xattrs, INODE_XATTR_AREA, BLOCK_SIZE);
        inodeXattrs.put(n, p.inInode());
        if (!p.inBlock().isEmpty()) {
          Arrays.fill(block, (byte) 0);
          XattrPacker.writeBlock(ByteBuffer.wrap(block), p.inBlock(), BLOCK_SIZE);
          n.xattrBlock = appender.append(block, 0, BLOCK_SIZE);
        }
      }
    }

    private long writeTablesAndSuper() throws IOException {
      long start = appender.nextBlock();
      int maxIno = inodes.size() - 1;
      // Smallest group count whose inode tables and bitmaps fit after the data.
      long groups = Math.max(1, (start + BLOCKS_PER_GROUP - 1) / BLOCKS_PER_GROUP);
      int ipg;
      long total;
      while (true) {
        long need = (maxIno + groups - 1) / groups;
        long ipgL = Math.max(16, (need + 15) / 16 * 16);
        if (ipgL <= BLOCKS_PER_GROUP) {
          ipg = (int) ipgL;
          total = start + groups * (ipg * (long) INODE_SIZE / BLOCK_SIZE) + 2 * groups;
          if (total <= groups * BLOCKS_PER_GROUP) {
            break;
          }
        }
        groups++;
      }
      long blocksCount = Math.max(total, (groups - 1) * BLOCKS_PER_GROUP + 1);
      if (blocksCount > maxBlocks || groups > (long) reservedGdtBlocks * DESCS_PER_BLOCK) {
        throw new IOException("image would exceed the maximum disk size of " + config.maxDiskSize() + " bytes");
      }
      int itBlocksPerGroup = ipg * INODE_SIZE / BLOCK_SIZE;
      long itStart = start;
      long bitmapStart = itStart + groups * itBlocksPerGroup;
      int[] usedDirs = new int[(int) groups];
      int[] freeInodes = new int[(int) groups];

      // Inode tables, one group at a time.
      ByteBuffer table = ByteBuffer.allocate(ipg * INODE_SIZE);
      for (int g = 0; g < groups; g++) {
        Arrays.fill(table.array(), (byte) 0);
        int free = 0;
        for (int i = 0; i < ipg; i++) {
          long ino = (long) g * ipg + i + 1;
          Node n = ino <= maxIno ? inodes.get((int) ino) : null;
          if (n == null) {
            if (ino >= LOST_FOUND_INO) {
              free++;
            }
            continue;
          }
          if (n.isDir()) {
            usedDirs[g]++;
          }
          table.position(i * INODE_SIZE);
          writeInode(table, n);
        }
        freeInodes[g] = free;
        hash(table.array());
        appender.append(table.array(), 0, table.capacity());
      }

      // Bitmaps: block bitmap then inode bitmap for each group.
      long gdtBlocks = (groups + DESCS_PER_BLOCK - 1) / DESCS_PER_BLOCK;
      long[] freeBlocks = new long[(int) groups];
      byte[] bm = new byte[BLOCK_SIZE];
      long[][] freed = freedRuns.toArray(new long[0][]);
      for (int g = 0; g < groups; g++) {
        Arrays.fill(bm, (byte) 0);
        long first = (long) g * BLOCKS_PER_GROUP;
        long free = 0;
        for (int i = 0; i < BLOCKS_PER_GROUP; i++) {
          long blk = first + i;
          boolean used;
          if (blk >= blocksCount) {
            used = true; // padding past the end of the filesystem
          } else if (blk >= total) {
            used = false;
          } else {
            used = !(blk > gdtBlocks && blk <= reservedGdtBlocks);
          }
          if (used) {
            bm[i >>> 3] |= (byte) (1 << (i & 7));
          } else if (blk < blocksCount) {
            free++;
          }
        }
        for (long[] run : freed) {
          for (long blk = Math.max(run[0], first); blk < Math.min(run[0] + run[1], first + BLOCKS_PER_GROUP); blk++) {
            int i = (int) (blk - first);
            bm[i >>> 3] &= (byte) ~(1 << (i & 7));
            free++;
          }
        }
        freeBlocks[g] = free;
        appender.append(bm, 0, BLOCK_SIZE);
        // Inode bitmap: used inodes, and every padding bit past inodes-per-group set.
        Arrays.fill(bm, (byte) 0);
        for (int i = 0; i < BLOCK_SIZE * 8; i++) {
          long ino = (long) g * ipg + i + 1;
          boolean used = i >= ipg || ino < LOST_FOUND_INO || (ino <= maxIno && inodes.get((int) ino) != null);
          if (used) {
            bm[i >>> 3] |= (byte) (1 << (i & 7));
          }
        }
        appender.append(bm, 0, BLOCK_SIZE);
      }
      appender.flush();

      // Group descriptors.
      ByteBuffer gdt = ByteBuffer.allocate((int) gdtBlocks * BLOCK_SIZE);
      long totalFreeBlocks = 0;
      long totalFreeInodes = 0;
      for (int g = 0; g < groups; g++) {
        GroupDescriptor d = new GroupDescriptor();
        d.blockBitmapLo = bitmapStart + 2L * g;
        d.inodeBitmapLo = bitmapStart + 2L * g + 1;
        d.inodeTableLo = itStart + (long) g * itBlocksPerGroup;
        d.freeBlocksCountLo = (int) freeBlocks[g];
        d.freeInodesCountLo = freeInodes[g];
        d.usedDirsCountLo = usedDirs[g];
        d.encode(gdt, DESC_SIZE);
        totalFreeBlocks += freeBlocks[g];
        totalFreeInodes += freeInodes[g];
      }
      gdt.flip();
      writeFully(gdt, BLOCK_SIZE);

      Superblock sb = new Superblock();
      sb.inodesCount = (long) ipg * groups;
      sb.blocksCountLo = blocksCount;
      sb.freeBlocksCountLo = totalFreeBlocks;
      sb.freeInodesCount = totalFreeInodes;
      sb.firstDataBlock = 0;
      sb.logBlockSize = 2;
      sb.logClusterSize = 2;
      sb.blocksPerGroup = BLOCKS_PER_GROUP;
      sb.clustersPerGroup = BLOCKS_PER_GROUP;
      sb.inodesPerGroup = ipg;
      sb.maxMntCount = 0xFFFF;
      sb.state = Superblock.STATE_VALID;
      sb.errors = Superblock.ERRORS_CONTINUE;
      sb.revLevel = Superblock.REV_DYNAMIC;
      sb.firstIno = LOST_FOUND_INO;
      sb.inodeSize = INODE_SIZE;
      sb.featureCompat = CompatFeature.EXT_ATTR.mask() | CompatFeature.SPARSE_SUPER2.mask();
      sb.featureIncompat =
          IncompatFeature.FILETYPE.mask() | IncompatFeature.EXTENTS.mask() | IncompatFeature.FLEX_BG.mask();
      sb.featureRoCompat = RoCompatFeature.LARGE_FILE.mask() | RoCompatFeature.HUGE_FILE.mask()
          | RoCompatFeature.EXTRA_ISIZE.mask() | RoCompatFeature.DIR_NLINK.mask() | RoCompatFeature.READONLY.mask();
      sb.minExtraIsize = EXTRA_ISIZE;
      sb.wantExtraIsize = EXTRA_ISIZE;
      sb.logGroupsPerFlex = Math.max(1, 64 - Long.numberOfLeadingZeros(groups - 1));
      sb.lpfIno = 0;
      ByteBuffer h = ByteBuffer.allocate(16);
      h.putInt((int) digest.getValue()).putInt((int) digest2.getValue()).putInt((int) blocksCount)
          .putInt(inodes.size());
      byte[] uuid = h.array();
      uuid[6] = (byte) ((uuid[6] & 0x0F) | 0x50); // name-based (version 5 style)
      uuid[8] = (byte) ((uuid[8] & 0x3F) | 0x80);
      sb.uuid = uuid;
      Ext4Writer.this.uuid = uuid.clone();
      ByteBuffer sbBuf = ByteBuffer.allocate(Superblock.SIZE);
      sb.encode(sbBuf);
      sbBuf.flip();
      writeFully(sbBuf, Superblock.OFFSET);

      long size = blocksCount * BLOCK_SIZE;
      if (out.size() < size) {
        writeFully(ByteBuffer.wrap(new byte[1]), size - 1);
      } else if (out.size() > size) {
        out.truncate(size);
      }
      return size;
    }

    private void writeInode(ByteBuffer table, Node n) {
      int slot = table.position();
      Inode in = new Inode();
      in.mode = n.mode;
      in.setUid(n.uid);
      in.setGid(n.gid);
      in.setSize(n.size);
      in.atime = Ext4Time.encodeSeconds(n.atime);
      in.atimeExtra = Ext4Time.encodeExtra(n.atime, n.atimeNs);
      in.mtime = Ext4Time.encodeSeconds(n.mtime);
      in.mtimeExtra = Ext4Time.encodeExtra(n.mtime, n.mtimeNs);
      in.ctime = Ext4Time.encodeSeconds(n.ctime);
      in.ctimeExtra = Ext4Time.encodeExtra(n.ctime, n.ctimeNs);
      in.crtime = Ext4Time.encodeSeconds(n.crtime);
      in.crtimeExtra = Ext4Time.encodeExtra(n.crtime, n.crtimeNs);
      if (n.isDir()) {
        int subdirs = 0;
        for (Node c : n.children.values()) {
          if (c.isDir()) {
            subdirs++;
          }
        }
        in.linksCount = 2 + subdirs > MAX_LINKS ? 1 : 2 + subdirs;
      } else {
        in.linksCount = n.links;
      }
      long fsBlocks = n.dataBlocks + n.treeBlocks + (n.xattrBlock != 0 ? 1 : 0);
      in.setBlocks(fsBlocks * (BLOCK_SIZE / 512));
      in.setFileAcl(n.xattrBlock);
      boolean extentMapped = n.iblock == null || n.treeBlocks > 0;
      if (extentMapped) {
        in.flags = InodeFlag.EXTENTS.mask();
        in.block = n.iblock != null ? n.iblock : ExtentTrees.build(n.dataStart, n.dataBlocks, 0, null, BLOCK_SIZE);
      } else {
        in.block = n.iblock;
      }
      in.extraIsize = EXTRA_ISIZE;
      in.encode(table, INODE_SIZE);
      List<XattrPacker.Item> xs = inodeXattrs.get(n);
      if (xs != null && !xs.isEmpty()) {
        XattrPacker.writeInodeArea(
            table.slice(slot + Inode.BASE_SIZE + EXTRA_ISIZE, INODE_XATTR_AREA), xs);
      }
    }

    private void writeFully(ByteBuffer b, long pos) throws IOException {
      while (b.hasRemaining()) {
        pos += out.write(b, pos);
      }
    }
  }
}
