package io.lcowgd.svm.host;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.io.Failures;
import io.lcowgd.posix.LibC;
import io.lcowgd.svm.AccessMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only ext4 mounts of image files shared by every VM of one {@link HostBackend}, kept mounted for a while after
 * their last user leaves.
 *
 * <p>On the host kernel a read-only attachment needs no isolation between service VMs, and re-attaching the same
 * image for every Get is the dominant cost of deep chains (a loop device plus an ext4 mount and unmount, about 12 ms
 * for a 20 GB sandbox). So a read-only attachment is one loop device and mount at {@code <runDir>/s/<n>}, which each
 * VM's {@code d<N>} links to. An entry whose count drops to zero lingers briefly, so that dockerd's usual
 * Get, Put, Get sequence (container create, then start) does not remount every image layer: at most {@code maxIdle}
 * of them, each for at most {@code idleNanos}. A background reaper unmounts an idle entry once its time is up (so the
 * last release is fully undone within {@code idleNanos}), the next acquire or release evicts expired entries too, and
 * {@link #releaseIdle} (pool Cleanup) and {@link #forget} (the image is removed or about to be written) unmount idle
 * entries at once.
 *
 * <p>Entries are keyed by path, file identity (inode) and payload range, so a file replaced under the same name is
 * never served from a stale mount. Thread-safe: one lock guards the map and serialises kernel calls.
 */
final class SharedMounts {
  private static final Logger LOG = LoggerFactory.getLogger(SharedMounts.class);
  private final Path dir;
  private final int maxIdle;
  private final long idleNanos;
  // @GuardedBy("this")
  private final Map<Key, Entry> entries = new HashMap<>();
  // @GuardedBy("this")
  private long counter;
  /** Unmounts idle entries when their linger time is up; one daemon thread, created on first use. */
  private final ScheduledExecutorService reaper =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "lcow-shared-mount-reaper");
            t.setDaemon(true);
            return t;
          });

  record Key(Path hostPath, Object fileKey, PayloadRange range) {}

  private static final class Entry {
    final Path mountPoint;
    final LoopDevice loop;
    int refs;
    long idleSince;

    Entry(Path mountPoint, LoopDevice loop) {
      this.mountPoint = mountPoint;
      this.loop = loop;
    }
  }

  SharedMounts(Path dir, int maxIdle, long idleNanos) {
    this.dir = dir;
    this.maxIdle = maxIdle;
    this.idleNanos = idleNanos;
  }

  /** The key of {@code hostPath}'s current file and {@code range}. */
  static Key key(Path hostPath, PayloadRange range) throws IOException {
    Object fk = Files.readAttributes(hostPath, BasicFileAttributes.class).fileKey();
    return new Key(hostPath, fk, range);
  }

  /** Mounts (or adds a user to the mount of) {@code key}'s image read-only; returns the mount point. */
  synchronized Path acquire(Key key) throws IOException {
    evict(false, null);
    Entry e = entries.get(key);
    if (e == null) {
      Path mp = dir.resolve(Long.toString(++counter, 36));
      Files.createDirectories(mp);
      LoopDevice loop = LoopDevice.attach(key.hostPath(), key.range(), AccessMode.READ_ONLY);
      try {
        Sys.mount(loop.path(), mp.toString(), "ext4", LibC.MS_RDONLY, "noload");
      } catch (IOException ex) {
        Failures.undo(ex, loop::close);
        Files.deleteIfExists(mp);
        throw new IOException("mount " + key.hostPath() + " read-only: " + ex.getMessage(), ex);
      }
      e = new Entry(mp, loop);
      entries.put(key, e);
    }
    e.refs++;
    return e.mountPoint;
  }

  /** Drops one user of {@code key}; the entry then lingers (see the class comment). */
  synchronized void release(Key key) throws IOException {
    Entry e = entries.get(key);
    if (e == null || e.refs == 0) {
      throw new IOException("release of " + key.hostPath() + ": no shared read-only mount in use");
    }
    if (--e.refs == 0) {
      e.idleSince = System.nanoTime();
      reaper.schedule(this::reap, idleNanos + 1_000_000L, TimeUnit.NANOSECONDS);
    }
    evict(false, null);
  }

  /** The reaper's task: evicts expired idle entries; a failure is logged and retried at the next eviction. */
  private synchronized void reap() {
    try {
      evict(false, null);
    } catch (IOException e) {
      LOG.warn("unmounting idle shared read-only mounts failed (retried at the next eviction): {}", e.toString());
    }
  }

  /** Unmounts every idle entry of {@code hostPath} (the file is about to be removed or written). */
  synchronized void forget(Path hostPath) throws IOException {
    evict(false, hostPath);
  }

  /** Unmounts every idle entry. */
  synchronized void releaseIdle() throws IOException {
    evict(true, null);
  }

  /** Number of entries in use and idle, for tests. */
  synchronized int size() {
    return entries.size();
  }

  private void evict(boolean all, Path path) throws IOException {
    long now = System.nanoTime();
    List<Map.Entry<Key, Entry>> idle = new ArrayList<>();
    for (Map.Entry<Key, Entry> me : entries.entrySet()) {
      if (me.getValue().refs == 0) {
        idle.add(me);
      }
    }
    idle.sort((a, b) -> Long.compare(a.getValue().idleSince, b.getValue().idleSince));
    int excess = idle.size() - maxIdle;
    IOException failure = null;
    for (Map.Entry<Key, Entry> me : idle) {
      Entry e = me.getValue();
      boolean go = all || excess-- > 0 || now - e.idleSince > idleNanos
          || (path != null && me.getKey().hostPath().equals(path));
      if (!go) {
        continue;
      }
      entries.remove(me.getKey());
      try {
        HostVm.unmount(e.mountPoint.toString());
        e.loop.close();
        Files.deleteIfExists(e.mountPoint);
      } catch (IOException ex) {
        failure = Failures.add(failure, ex);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
