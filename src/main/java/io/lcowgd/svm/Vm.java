package io.lcowgd.svm;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One running service VM, as a backend sees it. The pool calls these methods with the VM's lock held, so one VM
 * never sees two operations at once; the pool also does all reference counting, so every call here is a real
 * attach, detach, mount or unmount.
 */
public interface Vm {

  /**
   * Attaches the payload {@code range} of image {@code hostPath} and mounts its ext4 filesystem ({@code ro,noload}
   * when {@code mode} is read-only) at a guest path derived from {@code shortName} (e.g. {@code d7}); returns that
   * guest path.
   */
  String attach(Path hostPath, PayloadRange range, AccessMode mode, String shortName) throws IOException;

  /** Unmounts and detaches what {@link #attach} made at {@code guestPath}. */
  void detach(String guestPath) throws IOException;

  /** Flushes the filesystem mounted at {@code guestPath} to its image file ({@code syncfs}). */
  void sync(String guestPath) throws IOException;

  /** Creates the union mount described by {@code spec} (and, for a writable one, its upper and work dirs). */
  void mountUnion(UnionSpec spec) throws IOException;

  /** Removes the union mount at {@code target}. */
  void unmountUnion(String target) throws IOException;

  /**
   * Whether the VM is still running; the pool replaces a VM that reports {@code false} on the next acquire.
   * Default: always (an in-process backend cannot die on its own).
   */
  default boolean alive() {
    return true;
  }

  /** Stops the VM, undoing every union mount and attachment still present. */
  void terminate() throws IOException;
}
