/**
 * The LCOW graph driver: {@link LcowDriver} implements {@link io.lcowgd.graphdriver.GraphDriver} over a {@link
 * io.lcowgd.layerstore.LayerStore} (layer directories), a {@link io.lcowgd.svm.ServiceVmPool} (where images are
 * attached and union-mounted) and the tar/ext4 converters.
 *
 * <p>Vocabulary: an <b>image layer</b> holds {@code layer.vhd} (made by ApplyDiff, read-only); a <b>sandbox</b>
 * holds {@code sandbox.vhdx} whose ext4 keeps the layer's changes under {@code upper/} (overlayfs upper directory,
 * with {@code work/} beside it); a layer made by Create and mounted before any ApplyDiff gets a sandbox on its first
 * Get. In a union, an image layer contributes its filesystem root, a sandbox its {@code upper/} tree.
 */
package io.lcowgd.lcow;
