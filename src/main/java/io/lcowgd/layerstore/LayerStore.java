package io.lcowgd.layerstore;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.io.Failures;
import io.lcowgd.io.FileTrees;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The layer directories under one root, changed only by crash-safe steps (see the package documentation). Thread-safe:
 * structural changes (create, add a file, remove) are serialised by the store's lock; reads take no lock and see
 * either the old or the new state.
 */
public final class LayerStore {
  public static final String LAYER_VHD = "layer.vhd";
  public static final String SANDBOX_VHDX = "sandbox.vhdx";
  public static final String LAYER_CHAIN = "layerchain.json";
  static final String STAGING = ".staging";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;

  private LayerStore(Path root) {
    this.root = root;
  }

  /**
   * Opens (creating if needed) the store at {@code root} and deletes what a crash left behind: staging debris,
   * {@code <id>-removing} directories and stale scratch disks.
   */
  public static LayerStore open(Path root) throws IOException {
    Path r = root.toAbsolutePath().normalize();
    Files.createDirectories(r);
    LayerStore s = new LayerStore(r);
    Files.createDirectories(s.cacheDir());
    Files.createDirectories(s.scratchDir());
    Files.createDirectories(s.mountDir());
    Files.createDirectories(r.resolve(STAGING));
    s.clearDirectory(r.resolve(STAGING));
    s.clearDirectory(s.scratchDir());
    s.deleteRemoving();
    return s;
  }

  public Path root() {
    return root;
  }

  public Path cacheDir() {
    return root.resolve("cache");
  }

  public Path scratchDir() {
    return root.resolve("scratch");
  }

  /** Where union mounts go: {@code <root>/mnt}. */
  public Path mountDir() {
    return root.resolve("mnt");
  }

  /** The directory of layer {@code id} (which may not exist). */
  public Path dir(String id) {
    return root.resolve(LayerIds.check(id));
  }

  /** Whether layer {@code id} exists completely. Invalid ids do not exist. */
  public boolean exists(String id) {
    try {
      LayerIds.check(id);
    } catch (GraphDriverException e) {
      return false;
    }
    return Files.isRegularFile(root.resolve(id).resolve(LAYER_CHAIN));
  }

  /** Fills a staging directory or file before it is committed. */
  @FunctionalInterface
  public interface Populator {
    void populate(Path staged) throws IOException;
  }

  /**
   * Creates layer {@code id} on {@code parent} (null or empty: a base layer): writes {@code layerchain.json}, lets
   * {@code populate} add files to the staging directory (e.g. a sandbox), fsyncs and renames it into place.
   */
  public synchronized Layer create(String id, String parent, Populator populate) throws IOException {
    LayerIds.check(id);
    if (Files.exists(root.resolve(id), LinkOption.NOFOLLOW_LINKS)) {
      throw GraphDriverException.alreadyExists("layer " + id + " already exists in " + root);
    }
    List<String> chain = new ArrayList<>();
    if (parent != null && !parent.isEmpty()) {
      Layer p = layer(parent);
      chain.add(p.id());
      chain.addAll(p.parents());
    }
    Path staging = root.resolve(STAGING).resolve(id + "-" + nonce());
    try {
      Files.createDirectory(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      List<String> paths = new ArrayList<>();
      for (String c : chain) {
        paths.add(root.resolve(c).toString());
      }
      Path chainFile = staging.resolve(LAYER_CHAIN);
      Files.write(chainFile, JSON.writeValueAsBytes(paths));
      populate.populate(staging);
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(staging)) {
        for (Path f : ds) {
          if (Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            fsync(f);
          }
        }
      }
      fsync(staging);
      Files.move(staging, root.resolve(id), StandardCopyOption.ATOMIC_MOVE);
      fsync(root);
    } catch (IOException | RuntimeException e) {
      Failures.undo(e, () -> FileTrees.deleteTree(staging));
      if (e instanceof GraphDriverException) {
        throw e;
      }
      throw new IOException("create layer " + id + " in " + root + ": " + e.getMessage(), e);
    }
    return layer(id);
  }

  /**
   * Adds file {@code name} to existing layer {@code id}: {@code write} fills a staging file, which is fsynced and
   * then linked into place (never replacing an existing file). Returns the final path. While {@code write} runs, the
   * file's dirty pages are queued for write-out every {@link Writeback#INTERVAL} ({@link Writeback}), so that a large
   * file streamed in is mostly on disk by the time of the fsync.
   */
  public Path addFile(String id, String name, Populator write) throws IOException {
    Layer l = layer(id);
    Path staged = root.resolve(STAGING).resolve(id + "-" + nonce() + "-" + name);
    Path dest = l.dir().resolve(name);
    try {
      try (Writeback w = Writeback.start(staged, Writeback.INTERVAL)) {
        write.populate(staged); // its dirty pages go out meanwhile, so the fsync below has little left to write
      }
      fsync(staged);
      synchronized (this) {
        if (!exists(id)) {
          throw GraphDriverException.notFound("layer " + id + " was removed while " + name + " was written");
        }
        try {
          Files.createLink(dest, staged);
        } catch (FileAlreadyExistsException e) {
          throw GraphDriverException.alreadyExists("layer " + id + " already has " + name);
        }
        fsync(l.dir());
      }
      return dest;
    } finally {
      Files.deleteIfExists(staged);
    }
  }

  /** The layer {@code id}; NOT_FOUND if it does not exist (completely). */
  public Layer layer(String id) throws IOException {
    LayerIds.check(id);
    Path dir = root.resolve(id);
    byte[] chainJson;
    try {
      chainJson = Files.readAllBytes(dir.resolve(LAYER_CHAIN));
    } catch (NoSuchFileException e) {
      throw GraphDriverException.notFound("layer " + id + " does not exist in " + root);
    }
    List<String> paths;
    try {
      paths = JSON.readValue(chainJson, new TypeReference<List<String>>() {});
    } catch (IOException e) {
      throw new IOException("layer " + id + ": corrupt " + dir.resolve(LAYER_CHAIN) + ": " + e.getMessage(), e);
    }
    List<String> parents = new ArrayList<>();
    for (String p : paths) {
      // The original stores absolute folder paths; only the folder name (the id) is used, so a moved root works.
      Path fn = Path.of(p).getFileName();
      if (fn == null) {
        throw new IOException("layer " + id + ": bad parent path '" + p + "' in " + dir.resolve(LAYER_CHAIN));
      }
      parents.add(fn.toString());
    }
    LayerKind kind;
    if (Files.isRegularFile(dir.resolve(LAYER_VHD))) {
      kind = LayerKind.IMAGE;
    } else if (Files.isRegularFile(dir.resolve(SANDBOX_VHDX))) {
      kind = LayerKind.SANDBOX;
    } else {
      kind = LayerKind.EMPTY;
    }
    return new Layer(id, dir, parents, kind);
  }

  /** Removes layer {@code id}: renamed to {@code <id>-removing} (atomic), then deleted. NOT_FOUND if absent. */
  public void remove(String id) throws IOException {
    Path tomb;
    synchronized (this) {
      if (!exists(id)) {
        throw GraphDriverException.notFound("layer " + id + " does not exist in " + root);
      }
      tomb = root.resolve(id + LayerIds.REMOVING_SUFFIX);
      FileTrees.deleteTree(tomb); // a previous removal that failed half-way
      Files.move(root.resolve(id), tomb, StandardCopyOption.ATOMIC_MOVE);
      fsync(root);
    }
    try {
      FileTrees.deleteTree(tomb);
    } catch (IOException e) {
      throw new IOException("remove layer " + id + ": renamed to " + tomb + " but could not delete it: "
          + e.getMessage(), e);
    }
  }

  /** Ids of every complete layer. */
  public List<String> ids() throws IOException {
    List<String> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (exists(n)) {
          out.add(n);
        }
      }
    }
    return out;
  }

  /** Deletes leftover {@code <id>-removing} directories (at open and on Cleanup). */
  public synchronized void deleteRemoving() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "*" + LayerIds.REMOVING_SUFFIX)) {
      for (Path p : ds) {
        FileTrees.deleteTree(p);
      }
    }
  }

  private synchronized void clearDirectory(Path dir) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        FileTrees.deleteTree(p);
      }
    }
  }

  private static String nonce() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /** fsyncs a file or directory. */
  static void fsync(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
