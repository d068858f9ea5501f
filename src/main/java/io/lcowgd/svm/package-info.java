/**
 * The service-VM pool: the place where layer images are attached and union-mounted, ported from moby's
 * {@code lcow_svm.go}.
 *
 * <p>Vocabulary:
 *
 * <ul>
 *   <li><b>service VM</b> ({@link Vm}): an environment that can attach disk images and mount them. On Windows this
 *       was a Hyper-V utility VM; {@code io.lcowgd.svm.host} uses the Linux host kernel itself.
 *   <li><b>VM id</b>: the layer id the VM serves ({@link PoolMode#SAFE}, one VM per layer id) or one global id
 *       ({@link PoolMode#GLOBAL}).
 *   <li><b>attachment</b>: a disk image (host path + payload range) attached to a VM and mounted at a short guest
 *       path {@code d<N>}; reference-counted per host path within a VM.
 *   <li><b>union mount</b>: an overlay (or bind) mount of attachments at a target; reference-counted per target.
 * </ul>
 *
 * <p>Lifecycle: {@link ServiceVmPool#acquire} returns a {@link VmLease}; the first lease of a VM id starts the VM
 * and every concurrent caller waits for that one start (sharing its failure). Closing the last lease terminates
 * the VM in safe mode; in global mode the VM lives until {@link ServiceVmPool#cleanup}. The entry point is
 * {@link ServiceVmPool}; backends implement {@link VmBackend} and {@link Vm}.
 */
package io.lcowgd.svm;
