package io.lcowgd.sandbox;

import io.lcowgd.io.Failures;
import io.lcowgd.vhdx.Vhdx;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Makes container sandboxes and service-VM scratch disks: VHDX files holding an empty writable ext4 (see
 * {@link SandboxImage}), cloned in milliseconds from blank templates cached in a directory.
 *
 * <p>Templates are {@code <cacheDir>/sandbox-<N>g.vhdx} per size and {@code <cacheDir>/scratch.vhdx}. Each is made
 * once, on first use, under an in-process lock plus an exclusive file lock on {@code <cacheDir>/.<name>.lock} (so
 * several threads and processes may ask at once), written to a temporary name, flushed and renamed into place: a
 * template that exists is complete. A clone is a reflink or a sparse copy ({@link FileCloner}) written under a
 * temporary name next to the destination, given its own VHDX identity, flushed, then linked into place.
 *
 * <p>Sizes below {@link #DEFAULT_SIZE_GB} are refused (the original driver never made smaller sandboxes). Templates
 * are formatted by the factory's {@link Ext4Formatter} (the host's {@code mke2fs} unless another is injected).
 */
public final class SandboxFactory {
  /** Default and minimum sandbox size, in GiB. */
  public static final int DEFAULT_SIZE_GB = 20;
  /** Largest accepted size, in GiB (the VHDX limit is 64 TiB). */
  public static final int MAX_SIZE_GB = 64 * 1024;
  /**
   * Mount options for the sandbox's ext4 on the host (e.g. {@code mount -o noinit_itable ...}). The templates' inode
   * tables are already marked zeroed, so the kernel has nothing to initialise; {@code noinit_itable} guarantees it
   * never starts the lazy zeroing thread anyway (which would allocate hundreds of MiB in the sparse file and keep the
   * disk busy after every mount), should a template come from an mke2fs that could not punch the payload.
   */
  public static final String HOST_MOUNT_OPTIONS = "noinit_itable";

  private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

  private final Path cacheDir;
  private final Ext4Formatter formatter;

  /** A factory keeping its templates in {@code cacheDir} (created when missing), formatted by the host's mke2fs. */
  public SandboxFactory(Path cacheDir) {
    this(cacheDir, Ext4Formatter.HOST);
  }

  /** A factory keeping its templates in {@code cacheDir} (created when missing), formatted by {@code formatter}. */
  public SandboxFactory(Path cacheDir, Ext4Formatter formatter) {
    this.cacheDir = cacheDir.toAbsolutePath().normalize();
    this.formatter = java.util.Objects.requireNonNull(formatter, "formatter");
  }

  public Path cacheDir() {
    return cacheDir;
  }

  /** The cached blank sandbox template of {@code sizeGb} GiB, made first when missing. */
  public Path template(int sizeGb) throws IOException {
    checkSize(sizeGb);
    return ensureTemplate("sandbox-" + sizeGb + "g.vhdx", (long) sizeGb << 30);
  }

  /** The cached blank scratch template ({@link #DEFAULT_SIZE_GB} GiB), made first when missing. */
  public Path scratchTemplate() throws IOException {
    return ensureTemplate("scratch.vhdx", (long) DEFAULT_SIZE_GB << 30);
  }

  /** Creates the sandbox {@code dest} (which must not exist) of {@link #DEFAULT_SIZE_GB} GiB. */
  public CloneMethod create(Path dest) throws IOException {
    return create(dest, DEFAULT_SIZE_GB);
  }

  /**
   * Creates the sandbox {@code dest}, which must not exist, as a clone of the {@code sizeGb} template. Either
   * {@code dest} appears complete and flushed, or not at all. Returns how the template was copied.
   */
  public CloneMethod create(Path dest, int sizeGb) throws IOException {
    return cloneTo(template(sizeGb), dest);
  }

  /** Creates the service-VM scratch disk {@code dest} (which must not exist) from the scratch template. */
  public CloneMethod createScratch(Path dest) throws IOException {
    return cloneTo(scratchTemplate(), dest);
  }

  private static void checkSize(int sizeGb) {
    if (sizeGb < DEFAULT_SIZE_GB) {
      throw new IllegalArgumentException(
          "sandbox size " + sizeGb + " GB is below the minimum of " + DEFAULT_SIZE_GB + " GB");
    }
    if (sizeGb > MAX_SIZE_GB) {
      throw new IllegalArgumentException("sandbox size " + sizeGb + " GB is above the maximum of " + MAX_SIZE_GB
          + " GB");
    }
  }

  private static CloneMethod cloneTo(Path template, Path dest) throws IOException {
    Path abs = dest.toAbsolutePath();
    if (Files.exists(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(abs.toString(), null, "sandbox already exists");
    }
    Path dir = abs.getParent();
    Path tmp = dir.resolve("." + abs.getFileName() + ".tmp-" + UUID.randomUUID());
    try {
      CloneMethod m = FileCloner.cloneFile(template, tmp);
      Vhdx.renewIdentity(tmp);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      publish(tmp, abs);
      fsyncDir(dir);
      return m;
    } catch (IOException | RuntimeException e) {
      Failures.undo(e, () -> Files.deleteIfExists(tmp));
      if (e instanceof FileAlreadyExistsException fe) {
        throw fe;
      }
      throw new IOException("cannot create " + abs + " from template " + template + ": " + e.getMessage(), e);
    }
  }

  /** Gives {@code tmp} the name {@code dest} atomically, never replacing an existing {@code dest}. */
  private static void publish(Path tmp, Path dest) throws IOException {
    try {
      Files.createLink(dest, tmp); // atomic, and fails if dest exists
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (UnsupportedOperationException | FileSystemException e) {
      // no hard links on this filesystem (EPERM on vfat, some FUSE): a plain rename, refusing an existing dest
      Files.move(tmp, dest); // without REPLACE_EXISTING: fails if dest exists
      return;
    }
    Files.delete(tmp);
  }

  private Path ensureTemplate(String name, long virtualSize) throws IOException {
    Path template = cacheDir.resolve(name);
    if (Files.isRegularFile(template)) {
      return template; // complete: templates only ever appear by rename
    }
    Files.createDirectories(cacheDir);
    // keyed by the real path: the JVM refuses two overlapping file locks on one file, whatever path reached it
    ReentrantLock lock = LOCKS.computeIfAbsent(cacheDir.toRealPath().resolve(name), k -> new ReentrantLock());
    lock.lock();
    try {
      try (FileChannel lf = FileChannel.open(cacheDir.resolve("." + name + ".lock"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE)) {
        lf.lock(); // released when lf closes
        if (Files.isRegularFile(template)) {
          return template; // another process made it while we waited
        }
        removeStaleTemporaries(name);
        Path tmp = cacheDir.resolve("." + name + ".tmp-" + UUID.randomUUID());
        try {
          SandboxImage.create(tmp, virtualSize, formatter);
          Files.move(tmp, template, StandardCopyOption.ATOMIC_MOVE);
          fsyncDir(cacheDir);
        } catch (IOException | RuntimeException e) {
          Files.deleteIfExists(tmp);
          throw new IOException("cannot create template " + template + ": " + e.getMessage(), e);
        }
        return template;
      }
    } finally {
      lock.unlock();
    }
  }

  /** Deletes temporaries left by a crashed creator; safe because the caller holds the template's file lock. */
  private void removeStaleTemporaries(String name) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(cacheDir, "." + name + ".tmp-*")) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void fsyncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
