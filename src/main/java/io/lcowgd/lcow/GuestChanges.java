package io.lcowgd.lcow;

import static io.lcowgd.svm.uml.UmlVm.quote;

import io.lcowgd.convert.GuestListing;
import io.lcowgd.convert.LayerChanges;
import io.lcowgd.convert.ListingView;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.io.Failures;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.svm.VmLease;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.svm.uml.UmlVm;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Changes and DiffSize of a sandbox against its own parent run in a service VM of the guest pool ({@code
 * lcow.svm=uml}), so that the container-written ext4 is parsed only by the guest kernel: the sandbox is attached
 * read-only in the VM serving the layer and the guest lists its tree (GNU find/stat, getfattr); then the layers of
 * the parent chain are attached read-only in batches of {@link #BATCH} (detached before the next batch, so any chain
 * depth fits the VM's 15 disk slots) and the guest lists, for every directory of the sandbox's tree, that directory's
 * entries in each layer. The host reads the listings as {@link ListingView}s with the same {@link LayerChanges} that
 * reads the images on the host path, so the result equals the host path's.
 */
final class GuestChanges {
  static final String LISTER = "/usr/libexec/lcow-changes";
  /**
   * Parent layers attached at once: fewer guest processes than one at a time, well under the VM's 15 disk slots
   * (the sandbox takes one, other callers sharing a global VM may hold some), and any chain depth fits.
   */
  static final int BATCH = 8;
  private static final AtomicLong COMPLETED = new AtomicLong();
  private static final Object[] STRIPES = new Object[16];

  static {
    for (int i = 0; i < STRIPES.length; i++) {
      STRIPES[i] = new Object();
    }
  }

  private GuestChanges() {}

  /** How many guest Changes/DiffSize calls this process has completed (shown in Status). */
  static long completed() {
    return COMPLETED.get();
  }

  static List<Change> changes(LcowDriver.Context c, String id) throws IOException {
    return compute(c, id, "Changes", LayerChanges::changes);
  }

  static long diffSize(LcowDriver.Context c, String id) throws IOException {
    return compute(c, id, "DiffSize", LayerChanges::diffSize);
  }

  /** Changes or DiffSize of the sandbox's tree (the first view) over its parent chain (the other views). */
  private interface Rule<T> {
    T apply(List<ListingView> top, List<ListingView> parentChain) throws IOException;
  }

  private static <T> T compute(LcowDriver.Context c, String id, String op, Rule<T> rule) throws IOException {
    Layer l = c.store().layer(id);
    List<Layer> chain = new ArrayList<>();
    for (String pid : l.parents()) {
      Layer p = c.store().layer(pid);
      if (p.kind() != LayerKind.EMPTY) {
        chain.add(p);
      }
    }
    c.pool().sync(l.image()); // a container's read-write mount: push its page cache into the file first
    for (Layer p : chain) {
      if (p.kind() == LayerKind.SANDBOX) {
        c.pool().sync(p.image());
      }
    }
    VmLease lease = c.guests().acquire(id);
    T r;
    try {
      List<ListingView> views = ListingView.chain(listLocked(lease, l, chain, id));
      r = rule.apply(views.subList(0, 1), views.subList(1, views.size()));
    } catch (IOException | RuntimeException e) {
      IOException failure = new IOException(op + " " + id + " in service VM " + lease.vmId() + ": " + e.getMessage(), e);
      try {
        lease.close();
      } catch (IOException | RuntimeException s) {
        failure.addSuppressed(s);
      }
      throw failure;
    }
    lease.close();
    COMPLETED.incrementAndGet();
    return r;
  }

  /**
   * The sandbox's listing followed by its parent chain's probes. One guest listing at a time per VM: with a shared
   * (global) VM, concurrent callers (docker ps -s asks DiffSize of every container at once) would otherwise hold a
   * batch of disks each and could exhaust the VM's 15 disk slots.
   */
  private static List<GuestListing> listLocked(VmLease lease, Layer l, List<Layer> chain, String id)
      throws IOException {
    synchronized (STRIPES[Math.floorMod(lease.vmId().hashCode(), STRIPES.length)]) {
      try (VmLease.Attachment top = lease.attach(l.image(), ImagePayload.of(l), AccessMode.READ_ONLY)) {
        UmlVm vm = UmlBackend.guest(lease.vm());
        List<GuestListing> listings = new ArrayList<>(list(vm, "tree " + quote(top.guestPath()), 1, "sandbox " + id));
        for (int from = 0; from < chain.size(); from += BATCH) {
          List<Layer> batch = chain.subList(from, Math.min(chain.size(), from + BATCH));
          listings.addAll(probe(lease, vm, top.guestPath(), batch));
        }
        return listings;
      }
    }
  }

  /** Attaches {@code batch} read-only, lists it against the sandbox's tree, detaches it again. */
  private static List<GuestListing> probe(VmLease lease, UmlVm vm, String topPath, List<Layer> batch)
      throws IOException {
    List<VmLease.Attachment> atts = new ArrayList<>();
    List<GuestListing> out;
    try {
      StringBuilder args = new StringBuilder("probe ").append(quote(topPath));
      for (Layer p : batch) {
        VmLease.Attachment a = lease.attach(p.image(), ImagePayload.of(p), AccessMode.READ_ONLY);
        atts.add(a);
        args.append(' ').append(quote(a.guestPath())).append(p.kind() == LayerKind.IMAGE ? " layer" : " sandbox");
      }
      out = list(vm, args.toString(), batch.size(), "parent layers " + batch.stream().map(Layer::id).toList());
    } catch (IOException | RuntimeException e) {
      for (VmLease.Attachment a : atts) {
        try {
          a.close();
        } catch (IOException | RuntimeException s) {
          e.addSuppressed(s);
        }
      }
      throw e;
    }
    IOException failure = null;
    for (VmLease.Attachment a : atts) {
      try {
        a.close();
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    return out;
  }

  private static List<GuestListing> list(UmlVm vm, String args, int expected, String what) throws IOException {
    GuestListing.Parser p = GuestListing.parser();
    try {
      vm.stream("sh " + LISTER + " " + args, p);
      List<GuestListing> out = p.finish();
      if (out.size() != expected) {
        throw new IOException("guest listing: " + out.size() + " listings for " + expected + " layers");
      }
      return out;
    } catch (IOException e) {
      throw new IOException("listing " + what + ": " + e.getMessage(), e);
    }
  }
}
