package io.lcowgd.svm;

/** A snapshot of the pool for {@code docker info}: running VMs, attachments and union mounts over all VMs. */
public record PoolStats(int vms, int attachments, int unionMounts) {}
