package io.lcowgd.lcow;

import io.lcowgd.config.ConfigException;
import io.lcowgd.config.DriverConfig;
import io.lcowgd.config.LayerOptions;
import io.lcowgd.config.SvmBackend;
import io.lcowgd.graphdriver.Capabilities;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.GraphDriver;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.IdMap;
import io.lcowgd.graphdriver.StatusLine;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.io.Failures;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerIds;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.layerstore.LayerStore;
import io.lcowgd.sandbox.SandboxFactory;
import io.lcowgd.svm.PoolMode;
import io.lcowgd.svm.PoolStats;
import io.lcowgd.svm.ServiceVmPool;
import io.lcowgd.svm.host.HostBackend;
import io.lcowgd.svm.uml.StaleGuests;
import io.lcowgd.svm.uml.UmlBackend;
import io.lcowgd.svm.uml.UmlOptions;
import io.lcowgd.svm.uml.UvmImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The LCOW graph driver: layers as {@code layer.vhd}, containers as {@code sandbox.vhdx}, mounted through the
 * service-VM pool (see the package documentation).
 *
 * <p>Until {@link #init} names a home, the data root is the state directory given at construction ({@code serve
 * --root}); Init's home and options are saved there ({@link InitState}) and restored by the next instance. Get/Put
 * nest per id; Remove of a mounted layer unmounts it first (every outstanding Get is released).
 */
public final class LcowDriver implements GraphDriver, AutoCloseable {
  private final Path stateDir;
  private final DriverConfig baseConfig;
  private final Map<String, MountSlot> mounts = new ConcurrentHashMap<>();

  // Replaced as a whole by init(); read through current().
  private volatile Context ctx;

  /** Everything that depends on the home and the options. */
  record Context(DriverConfig config, LayerStore store, ServiceVmPool pool, HostBackend backend,
      SandboxFactory sandboxes, ServiceVmPool guests, GuestFormatter formatter) {}

  /** Per-id Get/Put state; its monitor serialises Get, Put and Remove of that id. */
  private static final class MountSlot {
    int refs;
    LayerMount mount;
  }

  private LcowDriver(Path stateDir, DriverConfig baseConfig) {
    this.stateDir = stateDir.toAbsolutePath().normalize();
    this.baseConfig = baseConfig;
  }

  /**
   * Opens the driver with state directory {@code stateDir} ({@code serve --root}) and daemon-wide options {@code
   * config} ({@code serve --opt}); restores a saved Init (home and options) if there is one, else uses {@code
   * stateDir} as the data root. Cleans up what a crashed previous instance left under the data root.
   */
  public static LcowDriver open(Path stateDir, DriverConfig config) throws IOException {
    LcowDriver d = new LcowDriver(stateDir, config);
    InitState saved = InitState.load(d.stateDir);
    if (saved != null) {
      d.ctx = d.openContext(Path.of(saved.home()), d.configWith(saved.options()));
    } else {
      d.ctx = d.openContext(d.stateDir, config);
    }
    return d;
  }

  private DriverConfig configWith(List<String> options) {
    try {
      return baseConfig.withOptions(options);
    } catch (ConfigException e) {
      throw new GraphDriverException(GraphDriverException.Category.INVALID_ARGUMENT, e.getMessage(), e);
    }
  }

  private Context openContext(Path home, DriverConfig config) throws IOException {
    // lcow.svm=uml (issue 7): dockerd needs a host path from Get, so the pool behind Get/ApplyDiff/Diff stays on the
    // host backend; the UML guest pool is opened (guest files checked, VMs booted lazily) and cleaned up with the
    // driver; a sandbox's Diff against its own parent (docker commit) runs in it (GuestDiff, see docs/uml.md).
    ServiceVmPool guests = null;
    UvmImage image = null;
    if (config.svm() == SvmBackend.UML) {
      try {
        image = UvmImage.from(config);
      } catch (IOException e) {
        throw new GraphDriverException(GraphDriverException.Category.UNAVAILABLE, "lcow.svm=uml: " + e.getMessage(), e);
      }
      StaleGuests.clean(UmlBackend.DEFAULT_RUN_BASE); // guests of a dead plugin (never of a live one), logged
    }
    LayerStore store = LayerStore.open(home);
    // lcow.svm=uml: templates are formatted by a guest's mke2fs, and every guest gets a scratch disk
    // (<root>/scratch/<vmId>.vhdx at /tmp/scratch) cloned from the scratch template (docs/uml.md).
    GuestFormatter formatter = null;
    SandboxFactory sandboxes = new SandboxFactory(store.cacheDir());
    if (image != null) {
      UmlOptions o = UmlOptions.withTimeout(config.timeout());
      formatter = new GuestFormatter(new ServiceVmPool(new UmlBackend(image, UmlBackend.DEFAULT_RUN_BASE, o),
          PoolMode.SAFE, config.timeout()));
      sandboxes = new SandboxFactory(store.cacheDir(), formatter);
      guests = new ServiceVmPool(new UmlBackend(image, UmlBackend.DEFAULT_RUN_BASE, o,
          new ScratchFiles(store.scratchDir(), sandboxes)), config.globalMode() ? PoolMode.GLOBAL : PoolMode.SAFE,
          config.timeout());
    }
    HostBackend backend = new HostBackend(HostBackend.defaultRunDir(store.root()), store.root(),
        SandboxFactory.HOST_MOUNT_OPTIONS);
    backend.cleanStale(store.mountDir());
    ServiceVmPool pool = new ServiceVmPool(backend, config.globalMode() ? PoolMode.GLOBAL : PoolMode.SAFE,
        config.timeout());
    return new Context(config, store, pool, backend, sandboxes, guests, formatter);
  }

  Context current() { // package-private for GuestDiffTest (host reference export)
    return ctx;
  }

  /** The data root in use. */
  public Path root() {
    return current().store().root();
  }

  @Override
  public synchronized void init(String home, List<String> options, List<IdMap> uidMaps, List<IdMap> gidMaps)
      throws IOException {
    if (home == null || home.isEmpty() || !Path.of(home).isAbsolute()) {
      throw GraphDriverException.invalidArgument("Init: home '" + home + "' is not an absolute path");
    }
    if ((uidMaps != null && !uidMaps.isEmpty()) || (gidMaps != null && !gidMaps.isEmpty())) {
      throw GraphDriverException.invalidArgument(
          "Init: user-namespace remapping (UIDMaps/GIDMaps) is not supported by the lcow driver");
    }
    DriverConfig config = configWith(options);
    Path newHome = Path.of(home).normalize();
    Context old = current();
    releaseAllMounts();
    old.pool().cleanup();
    if (old.guests() != null) {
      old.guests().cleanup();
    }
    if (old.formatter() != null) {
      old.formatter().close();
    }
    ctx = openContext(newHome, config);
    new InitState(newHome.toString(), options).save(stateDir);
  }

  @Override
  public void create(String id, String parent, String mountLabel, Map<String, String> storageOpt)
      throws IOException {
    Context c = current();
    LayerIds.check(id);
    c.store().create(id, emptyToNull(parent), staged -> {});
  }

  @Override
  public void createReadWrite(String id, String parent, String mountLabel, Map<String, String> storageOpt)
      throws IOException {
    Context c = current();
    LayerIds.check(id);
    int sizeGb;
    try {
      sizeGb = LayerOptions.parse(storageOpt, c.config()).sandboxSizeGb();
    } catch (ConfigException e) {
      throw new GraphDriverException(GraphDriverException.Category.INVALID_ARGUMENT,
          "CreateReadWrite " + id + ": " + e.getMessage(), e);
    }
    c.store().create(id, emptyToNull(parent),
        staged -> c.sandboxes().create(staged.resolve(LayerStore.SANDBOX_VHDX), sizeGb));
  }

  @Override
  public void remove(String id) throws IOException {
    Context c = current();
    LayerIds.check(id);
    MountSlot slot = mounts.get(id);
    if (slot != null) {
      synchronized (slot) {
        forceRelease(id, slot);
      }
    }
    c.pool().terminate(id);
    // A lingering shared read-only mount would keep the removed image's blocks allocated.
    c.pool().forget(c.store().dir(id).resolve(LayerStore.LAYER_VHD));
    c.pool().forget(c.store().dir(id).resolve(LayerStore.SANDBOX_VHDX));
    c.store().remove(id);
  }

  @Override
  public String get(String id, String mountLabel) throws IOException {
    Context c = current();
    LayerIds.check(id);
    while (true) {
      MountSlot slot = mounts.computeIfAbsent(id, k -> new MountSlot());
      synchronized (slot) {
        if (mounts.get(id) != slot) {
          continue; // released and dropped meanwhile
        }
        if (slot.mount != null) {
          slot.refs++;
          return slot.mount.dir();
        }
        try {
          Layer layer = c.store().layer(id);
          if (layer.kind() == LayerKind.EMPTY) {
            // Created by Create and written through Get: it becomes an empty writable layer (a sandbox).
            c.store().addFile(id, LayerStore.SANDBOX_VHDX,
                p -> c.sandboxes().create(p, c.config().sandboxSizeGb()));
            layer = c.store().layer(id);
          }
          slot.mount = LayerMount.mount(c.store(), c.pool(), layer);
          slot.refs = 1;
          return slot.mount.dir();
        } catch (IOException | RuntimeException e) {
          mounts.remove(id, slot);
          throw e;
        }
      }
    }
  }

  @Override
  public void put(String id) throws IOException {
    LayerIds.check(id);
    MountSlot slot = mounts.get(id);
    if (slot == null) {
      throw GraphDriverException.failedPrecondition("Put " + id + ": the layer is not mounted");
    }
    synchronized (slot) {
      if (slot.mount == null || slot.refs == 0) {
        throw GraphDriverException.failedPrecondition("Put " + id + ": the layer is not mounted");
      }
      if (--slot.refs > 0) {
        return;
      }
      forceRelease(id, slot);
    }
  }

  /** Unmounts {@code id} whatever its count; the caller holds the slot's monitor. */
  private void forceRelease(String id, MountSlot slot) throws IOException {
    LayerMount m = slot.mount;
    slot.mount = null;
    slot.refs = 0;
    mounts.remove(id, slot);
    if (m != null) {
      m.release();
    }
  }

  private void releaseAllMounts() throws IOException {
    IOException failure = null;
    for (Map.Entry<String, MountSlot> e : new ArrayList<>(mounts.entrySet())) {
      synchronized (e.getValue()) {
        try {
          forceRelease(e.getKey(), e.getValue());
        } catch (IOException ex) {
          if (failure == null) {
            failure = new IOException("releasing every mount failed", ex);
          } else {
            failure.addSuppressed(ex);
          }
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public boolean exists(String id) {
    return current().store().exists(id);
  }

  @Override
  public List<StatusLine> status() throws IOException {
    Context c = current();
    PoolStats st = c.pool().stats();
    List<StatusLine> out = new ArrayList<>();
    out.add(new StatusLine("Mode", c.pool().mode() == PoolMode.GLOBAL ? "global" : "safe"));
    out.add(new StatusLine("Root", c.store().root().toString()));
    out.add(new StatusLine("Backend", c.pool().backendName()));
    out.add(new StatusLine("Layers", Integer.toString(c.store().ids().size())));
    out.add(new StatusLine("Mounts", Integer.toString(mounts.size())));
    out.add(new StatusLine("Service VMs", Integer.toString(st.vms())));
    out.add(new StatusLine("Attached images", Integer.toString(st.attachments())));
    if (c.guests() != null) {
      out.add(new StatusLine("Guest VMs", c.guests().backendName() + ", " + c.guests().stats().vms()
          + " running, " + GuestDiff.completed()
          + " sandbox Diffs done in guests (Get/Put, ApplyDiff and image-layer Diffs on the host)"));
      out.add(new StatusLine("Guest Changes", GuestChanges.completed()
          + " sandbox Changes/DiffSize against their own parent done in guests (others on the host)"));
    }
    out.add(new StatusLine("Sandbox size", c.config().sandboxSizeGb() + " GB"));
    out.add(new StatusLine("Timeout", c.config().timeout().toSeconds() + " s"));
    return out;
  }

  @Override
  public Map<String, String> getMetadata(String id) throws IOException {
    Context c = current();
    Layer l = c.store().layer(id);
    Map<String, String> m = new LinkedHashMap<>();
    m.put("Dir", l.dir().toString());
    m.put("Kind", l.kind().name().toLowerCase(java.util.Locale.ROOT));
    if (l.kind() != LayerKind.EMPTY) {
      m.put("File", l.image().toString());
    }
    if (l.parent() != null) {
      m.put("Parent", l.parent());
    }
    MountSlot s = mounts.get(id);
    if (s != null) {
      synchronized (s) {
        if (s.mount != null) {
          m.put("MergedDir", s.mount.dir());
        }
      }
    }
    return m;
  }

  @Override
  public void cleanup() throws IOException {
    Context c = current();
    IOException failure = null;
    try {
      releaseAllMounts();
    } catch (IOException e) {
      failure = e;
    }
    try {
      c.pool().cleanup();
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    if (c.guests() != null) {
      try {
        c.guests().cleanup();
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    if (c.formatter() != null) {
      try {
        c.formatter().close();
      } catch (IOException e) {
        failure = Failures.add(failure, e);
      }
    }
    try {
      c.store().deleteRemoving();
    } catch (IOException e) {
      failure = Failures.add(failure, e);
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws IOException {
    cleanup();
  }

  /**
   * Whether {@code Diff}/{@code Changes}/{@code DiffSize(id, parent)} runs in the guest pool ({@code lcow.svm=uml}):
   * a sandbox compared with its own parent (or with none given).
   */
  private static boolean servedByGuest(Context c, String id, String parent) throws IOException {
    if (c.guests() == null) {
      return false;
    }
    Layer l = c.store().layer(id);
    return l.kind() == LayerKind.SANDBOX && (parent == null || parent.equals(l.parent()));
  }

  @Override
  public TarStream diff(String id, String parent) throws IOException {
    Context c = current();
    String p = emptyToNull(parent);
    if (servedByGuest(c, id, p)) {
      return GuestDiff.diff(c, id); // lcow.svm=uml: a sandbox's own Diff (docker commit) runs in a guest
    }
    return LayerDiffs.diff(c, id, p);
  }

  @Override
  public List<Change> changes(String id, String parent) throws IOException {
    Context c = current();
    String p = emptyToNull(parent);
    if (servedByGuest(c, id, p)) {
      return GuestChanges.changes(c, id); // lcow.svm=uml: a sandbox's own Changes runs in a guest
    }
    return LayerDiffs.changes(c, id, p);
  }

  @Override
  public long applyDiff(String id, String parent, InputStream tar) throws IOException {
    return LayerDiffs.applyDiff(current(), id, emptyToNull(parent), tar);
  }

  @Override
  public long diffSize(String id, String parent) throws IOException {
    Context c = current();
    String p = emptyToNull(parent);
    if (servedByGuest(c, id, p)) {
      return GuestChanges.diffSize(c, id); // lcow.svm=uml: a sandbox's own DiffSize runs in a guest
    }
    return LayerDiffs.diffSize(c, id, p);
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities(false);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
