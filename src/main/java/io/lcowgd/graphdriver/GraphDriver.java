package io.lcowgd.graphdriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * A Docker graph driver: the storage behind images (read-only layers) and containers (read-write layers).
 *
 * <p>Mirrors moby's {@code graphdriver.ProtoDriver} plus {@code DiffDriver}, one method per {@code /GraphDriver.*}
 * endpoint. Vocabulary:
 *
 * <ul>
 *   <li><b>layer</b>: an image layer made by {@link #create} and filled by {@link #applyDiff}; read-only afterwards.
 *   <li><b>read-write layer</b>: made by {@link #createReadWrite} (a container's {@code <id>-init} layer and the
 *       container layer itself); written through the directory returned by {@link #get}.
 *   <li><b>parent</b>: the layer below; an empty or null parent means a base layer.
 *   <li><b>get/put</b>: reference-counted mounts; calls nest and may run concurrently for one id.
 * </ul>
 *
 * <p>Implementations are thread-safe. Errors are {@link GraphDriverException}s (with a category) or {@link
 * IOException}s; the protocol edge turns both into {@code {"Err": message}}.
 */
public interface GraphDriver {

  /** Initialises the driver with dockerd's home directory, {@code --storage-opt} options and ID maps. */
  void init(String home, List<String> options, List<IdMap> uidMaps, List<IdMap> gidMaps) throws IOException;

  /** Creates an empty read-only layer {@code id} on top of {@code parent} (null/empty for a base layer). */
  void create(String id, String parent, String mountLabel, Map<String, String> storageOpt) throws IOException;

  /** Creates a read-write layer (container or {@code -init} layer) on top of {@code parent}. */
  void createReadWrite(String id, String parent, String mountLabel, Map<String, String> storageOpt)
      throws IOException;

  /** Removes layer {@code id} and everything it stores. */
  void remove(String id) throws IOException;

  /** Mounts layer {@code id} (with all its parents) and returns the absolute host directory of its root. */
  String get(String id, String mountLabel) throws IOException;

  /** Releases one {@link #get} of layer {@code id}; the last release unmounts. */
  void put(String id) throws IOException;

  /** Returns whether layer {@code id} exists (completely). */
  boolean exists(String id) throws IOException;

  /** Key/value lines shown by {@code docker info} under "Storage Driver". */
  List<StatusLine> status() throws IOException;

  /** Low-level details of layer {@code id}, shown verbatim by {@code docker inspect}. */
  Map<String, String> getMetadata(String id) throws IOException;

  /** Releases every mount and service VM; called at daemon shutdown. */
  void cleanup() throws IOException;

  /**
   * Prepares the changes of layer {@code id} against {@code parent} (null/empty: its own parent) as a layer tar.
   * Validation happens here, so a failure can still be reported as an error; the returned stream then writes the
   * tar and must be closed.
   */
  TarStream diff(String id, String parent) throws IOException;

  /** The changes of layer {@code id} against {@code parent} (null/empty: its own parent), parents first. */
  List<Change> changes(String id, String parent) throws IOException;

  /**
   * Fills the layer {@code id} (made by {@link #create}) from a layer tar, read to its end, and returns the size
   * dockerd records for the layer: the sum of the sizes of the regular files in the tar.
   */
  long applyDiff(String id, String parent, InputStream tar) throws IOException;

  /** Bytes of the layer's own changes against {@code parent} (null/empty: its own parent). */
  long diffSize(String id, String parent) throws IOException;

  /** What the driver can do; {@code ReproducesExactDiffs} decides whether dockerd uses {@link #diff} for save. */
  Capabilities capabilities();
}
