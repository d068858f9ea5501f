package io.lcowgd.svm.uml;

import io.lcowgd.io.Failures;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Attachments beyond UML's 16 ubd devices (utility-vms.md U7): each image is exposed as a new file {@code h<n>} in
 * the VM's confined hostfs directory (bind mount + ACL, {@link GuestJail#expose}); the guest mounts that directory
 * once at {@code /tmp/.hostfs} and puts a loop device (read-only for layers, at the payload offset) over the file.
 */
final class HostfsDisks {
  /** A disk beyond the ubd slots: {@code file} in the hostfs directory, a guest loop device over it. */
  private record HostfsDisk(Path file, String loopDevice) {}

  private final String id;
  private final Path dir;
  private final GuestJail jail;
  private final UmlProcess guest;
  private final GuestShell shell;
  private final Map<String, HostfsDisk> viaHostfs = new HashMap<>();
  private long counter;
  private boolean mounted;

  /** The hostfs attachments of VM {@code id}, whose files live in {@code dir} (the guest's hostfs root). */
  HostfsDisks(String id, Path dir, GuestJail jail, UmlProcess guest, GuestShell shell) {
    this.id = id;
    this.dir = dir;
    this.jail = jail;
    this.guest = guest;
    this.shell = shell;
  }

  /** Whether an attachment is mounted at guest path {@code mp} through hostfs. */
  boolean holds(String mp) {
    return viaHostfs.containsKey(mp);
  }

  /** Exposes {@code hostPath} in the hostfs directory and mounts the ext4 at {@code range} at guest path {@code mp}. */
  String attach(Path hostPath, PayloadRange range, AccessMode mode, String mp) throws IOException {
    Path file = dir.resolve("h" + (++counter));
    try {
      jail.expose(hostPath, file, mode);
    } catch (IOException e) {
      throw guest.explain(e, "while exposing " + hostPath);
    }
    boolean ro = mode == AccessMode.READ_ONLY;
    String c = (mounted ? "" : "{ mountpoint -q /tmp/.hostfs || { mkdir -p /tmp/.hostfs && mount -t hostfs none"
        + " /tmp/.hostfs; }; } && ")
        + GuestShell.loopMount("/tmp/.hostfs/" + file.getFileName(), range.offset(), ro, mp);
    String out;
    try {
      out = shell.run(c);
    } catch (IOException e) {
      Failures.undo(e, () -> jail.withdraw(file));
      throw new IOException("attach " + hostPath + " (" + mode + ", payload " + range.offset() + "+" + range.length()
          + ") at " + mp + " through hostfs in service VM " + id + ": " + e.getMessage(), e);
    }
    mounted = true;
    viaHostfs.put(mp, new HostfsDisk(file, out.strip()));
    return mp;
  }

  /**
   * Unmounts the hostfs attachment at {@code guestPath}, frees its loop device and withdraws its file; returns false
   * (doing nothing) if no hostfs attachment is mounted there.
   */
  boolean detach(String guestPath) throws IOException {
    HostfsDisk h = viaHostfs.get(guestPath);
    if (h == null) {
      return false;
    }
    shell.run(GuestShell.unmount(guestPath, h.loopDevice()));
    viaHostfs.remove(guestPath);
    jail.withdraw(h.file());
    return true;
  }

  /** Forgets every attachment (the guest is being terminated). */
  void clear() {
    viaHostfs.clear();
  }
}
