package io.lcowgd.svm.uml;

import io.lcowgd.io.Failures;
import io.lcowgd.svm.AccessMode;
import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The ubd slots of one guest: host images hot-plugged through mconsole as {@code ubd1..ubd15} (read-only ones as
 * {@code ubdNr}), each first exposed to the guest uid as a link in the run directory's {@code disks/} ({@link
 * GuestJail#expose}), and mounted in the guest (a payload that does not start at byte 0 through a guest loop device).
 */
final class UbdDisks {
  /** ubd0 is unused (no root disk); ubd1..ubd15 hold the scratch disk and attachments (UML's limit is 16 devices). */
  static final int MAX_DISKS = 15;

  /** A plugged slot; {@code loopDevice} is the guest loop device of a mount at a payload offset, else null. */
  record Disk(int index, String loopDevice, Path link) {}

  private final String id;
  private final Path dir;
  private final GuestJail jail;
  private final UmlProcess guest;
  private final GuestShell shell;
  /** Plugged slots under {@code #plug<index>}, and mounted attachments under their guest path as well. */
  private final Map<String, Disk> disks = new HashMap<>();

  /** The slots of VM {@code id}, whose links live in {@code dir} (the run directory's {@code disks/}). */
  UbdDisks(String id, Path dir, GuestJail jail, UmlProcess guest, GuestShell shell) {
    this.id = id;
    this.dir = dir;
    this.jail = jail;
    this.guest = guest;
    this.shell = shell;
  }

  /** The guest block device of slot {@code index} ({@code /dev/ubdb} for slot 1). */
  static String device(int index) {
    return "/dev/ubd" + (char) ('a' + index);
  }

  /** Whether an attachment is mounted at guest path {@code mp} through a slot. */
  boolean holds(String mp) {
    return disks.containsKey(mp);
  }

  /** Whether a slot is free (else attachments go through hostfs, {@link HostfsDisks}). */
  boolean hasFreeSlot() {
    try {
      freeIndex();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Exposes {@code hostPath} to the guest uid and hot-plugs it into the first free slot, unmounted. */
  Disk plug(Path hostPath, AccessMode mode) throws IOException {
    int idx = freeIndex();
    Path link = dir.resolve(Integer.toString(idx));
    try {
      jail.expose(hostPath, link, mode);
    } catch (IOException e) {
      throw guest.explain(e, "while exposing " + hostPath);
    }
    String r;
    try {
      r = guest.mconsole("config", "ubd" + idx + (mode == AccessMode.READ_ONLY ? "r" : "") + "=" + link);
    } catch (IOException | RuntimeException e) {
      Failures.undo(e, () -> jail.withdraw(link));
      throw e;
    }
    if (!r.startsWith("OK")) {
      jail.withdraw(link);
      throw new IOException("service VM " + id + ": hot-plug of " + hostPath + " as ubd" + idx + " failed: " + r);
    }
    Disk d = new Disk(idx, null, link);
    disks.put("#plug" + idx, d);
    return d;
  }

  /** Removes the slot of {@code d} through mconsole and withdraws its link from the guest uid. */
  void unplug(Disk d) throws IOException {
    disks.remove("#plug" + d.index());
    String r = guest.mconsole("remove", "ubd" + d.index());
    jail.withdraw(d.link());
    if (!r.startsWith("OK")) {
      throw new IOException("service VM " + id + ": removing ubd" + d.index() + " failed: " + r);
    }
  }

  /**
   * Plugs {@code hostPath} into a free slot and mounts the ext4 at {@code range} at guest path {@code mp} (read-only
   * with {@code noload} for {@link AccessMode#READ_ONLY}); unplugs it again if the mount fails.
   */
  String attach(Path hostPath, PayloadRange range, AccessMode mode, String mp) throws IOException {
    Disk d = plug(hostPath, mode);
    boolean ro = mode == AccessMode.READ_ONLY;
    String dev = device(d.index());
    String opts = ro ? "-o ro,noload " : "";
    String c;
    if (range.offset() == 0) {
      c = "mkdir -p " + mp + " && mount -t ext4 " + opts + dev + " " + mp;
    } else {
      c = GuestShell.loopMount(dev, range.offset(), ro, mp);
    }
    String out;
    try {
      out = shell.run(c);
    } catch (IOException e) {
      Failures.undo(e, () -> unplug(d));
      throw new IOException("attach " + hostPath + " (" + mode + ", payload " + range.offset() + "+" + range.length()
          + ") at " + mp + " in service VM " + id + ": " + e.getMessage(), e);
    }
    disks.put(mp, new Disk(d.index(), range.offset() == 0 ? null : out.strip(), d.link()));
    return mp;
  }

  /** Unmounts the attachment at {@code guestPath} (and its loop device), removes the mount point, unplugs it. */
  void detach(String guestPath) throws IOException {
    Disk d = disks.get(guestPath);
    if (d == null) {
      throw new IOException("detach " + guestPath + ": nothing attached there in service VM " + id);
    }
    shell.run(GuestShell.unmount(guestPath, d.loopDevice()));
    disks.remove(guestPath);
    unplug(d);
  }

  /** Forgets every slot (the guest is being terminated). */
  void clear() {
    disks.clear();
  }

  private int freeIndex() throws IOException {
    boolean[] used = new boolean[MAX_DISKS + 1];
    for (Disk d : disks.values()) {
      used[d.index()] = true;
    }
    for (int i = 1; i <= MAX_DISKS; i++) {
      if (!used[i]) {
        return i;
      }
    }
    throw new IOException("service VM " + id + ": all " + MAX_DISKS + " disk slots are in use (UML allows 16 ubd"
        + " devices)");
  }
}
