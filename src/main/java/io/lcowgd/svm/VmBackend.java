package io.lcowgd.svm;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The service-provider interface under {@link ServiceVmPool}: starts service VMs. Implementations need not be
 * thread-safe per {@link Vm} (the pool serialises operations on one VM) but {@link #start} may run concurrently
 * for different ids.
 */
public interface VmBackend {

  /** A short name for {@code docker info}, e.g. {@code host}. */
  String name();

  /** Starts a service VM for {@code vmId} (a layer id or the global id) and returns it once usable. */
  Vm start(String vmId) throws IOException;

  /**
   * Drops anything the backend keeps of image {@code hostPath} beyond its attachments (e.g. an idle shared
   * read-only mount): the image is about to be removed or written. Default: nothing.
   */
  default void forget(Path hostPath) throws IOException {}

  /** Releases everything idle the backend keeps (called by {@link ServiceVmPool#cleanup()}). Default: nothing. */
  default void releaseIdle() throws IOException {}
}
