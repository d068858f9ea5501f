package io.lcowgd.svm;

/** How layer ids map to service VMs ({@code lcow.globalmode}). */
public enum PoolMode {
  /** One VM per layer id, terminated when its last lease closes (the original's default). */
  SAFE,
  /** One VM for everything, kept until {@link ServiceVmPool#cleanup()}. */
  GLOBAL
}
