package io.lcowgd.lcow;

import io.lcowgd.io.Failures;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.layerstore.LayerStore;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.UnionSpec;
import io.lcowgd.svm.VmLease;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One mounted layer: the lease on its service VM, the attachments of its image and its parents' images, and the
 * union mount at {@code <root>/mnt/<id>}. Built by {@link #mount}; {@link #release} undoes everything in reverse.
 */
final class LayerMount {
  private static final String LOST_FOUND = "lost+found";
  private final String dir;
  private final VmLease lease;
  private final List<VmLease.Attachment> attachments;
  private final VmLease.UnionMount union;

  private LayerMount(String dir, VmLease lease, List<VmLease.Attachment> attachments, VmLease.UnionMount union) {
    this.dir = dir;
    this.lease = lease;
    this.attachments = attachments;
    this.union = union;
  }

  /** The host directory dockerd uses. */
  String dir() {
    return dir;
  }

  /**
   * Mounts {@code layer} (an IMAGE or SANDBOX layer) with its parents: an image layer as a read-only union of its
   * chain, a sandbox as a writable overlay whose upper and work directories live in the sandbox.
   */
  static LayerMount mount(LayerStore store, ServiceVmPool pool, Layer layer) throws IOException {
    if (layer.kind() == LayerKind.EMPTY) {
      throw new IllegalStateException("layer " + layer.id() + " has no image to mount");
    }
    VmLease lease = pool.acquire(layer.id());
    List<VmLease.Attachment> atts = new ArrayList<>();
    try {
      boolean writable = layer.kind() == LayerKind.SANDBOX;
      VmLease.Attachment top = lease.attach(layer.image(), ImagePayload.of(layer),
          writable ? AccessMode.READ_WRITE : AccessMode.READ_ONLY);
      atts.add(top);
      List<String> lowers = new ArrayList<>();
      List<String> imageRoots = new ArrayList<>();
      if (!writable) {
        lowers.add(top.guestPath());
        imageRoots.add(top.guestPath());
      }
      for (String pid : layer.parents()) {
        Layer p = store.layer(pid);
        if (p.kind() == LayerKind.EMPTY) {
          continue; // never filled, never mounted: no content
        }
        VmLease.Attachment a = lease.attach(p.image(), ImagePayload.of(p), AccessMode.READ_ONLY);
        atts.add(a);
        if (p.kind() == LayerKind.IMAGE) {
          lowers.add(a.guestPath());
          imageRoots.add(a.guestPath());
        } else if (Files.isDirectory(Path.of(a.guestPath(), "upper"))) {
          // A sandbox contributes its changes (upper/, whiteouts and opaque dirs included), never its root.
          lowers.add(a.guestPath() + "/upper");
        }
      }
      String target = store.mountDir().resolve(layer.id()).toString();
      UnionSpec spec = writable
          ? UnionSpec.writable(target, lowers, top.guestPath() + "/upper", top.guestPath() + "/work")
          : UnionSpec.readOnly(target, lowers);
      if (onlyEmptyLostFound(lowers, imageRoots)) {
        spec = spec.hiding(List.of(LOST_FOUND));
      }
      VmLease.UnionMount union = lease.mountUnion(spec);
      return new LayerMount(target, lease, atts, union);
    } catch (IOException | RuntimeException e) {
      IOException c = closeAll(null, atts, lease);
      if (c != null) {
        e.addSuppressed(c);
      }
      throw e;
    }
  }

  /**
   * Whether the only {@code lost+found} entries in the union are empty directories at the roots of image layers
   * (the writer, like mke2fs, makes one): those are an artefact of ext4, not layer content, and are hidden so the
   * container's root matches the layer tars (docker export, docker cp). A non-empty one, or one in a sandbox's
   * {@code upper/}, is content and stays visible.
   */
  private static boolean onlyEmptyLostFound(List<String> lowers, List<String> imageRoots) throws IOException {
    boolean any = false;
    for (String l : lowers) {
      Path lf = Path.of(l, LOST_FOUND);
      if (!Files.exists(lf, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      if (!imageRoots.contains(l) || !Files.isDirectory(lf, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      try (Stream<Path> s = Files.list(lf)) {
        if (s.findAny().isPresent()) {
          return false;
        }
      }
      any = true;
    }
    return any;
  }

  /** Unmounts the union, detaches every image and drops the VM lease; failures are collected, not dropped. */
  void release() throws IOException {
    IOException failure = null;
    try {
      union.close();
    } catch (IOException e) {
      failure = e;
    }
    IOException rest = closeAll(null, attachments, lease);
    if (rest != null) {
      failure = Failures.add(failure, rest);
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static IOException closeAll(IOException failure, List<VmLease.Attachment> atts, VmLease lease) {
    for (int i = atts.size() - 1; i >= 0; i--) {
      try {
        atts.get(i).close();
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    try {
      lease.close();
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    return failure;
  }
}
