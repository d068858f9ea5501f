package io.lcowgd.svm;

import java.io.IOException;

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
}
