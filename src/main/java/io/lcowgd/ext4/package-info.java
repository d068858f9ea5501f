/**
 * Writes compact, read-only ext4 images for container layers (JDK only). The entry point is
 * {@link io.lcowgd.ext4.Ext4Writer}: describe a tree with path operations ({@code directory}, {@code file},
 * {@code symlink}, {@code hardLink}, {@code device}, {@code fifo}, {@code setXattr}), each carrying a
 * {@link io.lcowgd.ext4.FileMeta}, then {@code finish()}. File contents stream straight to their final blocks; all
 * layout policy lives in the writer, the on-disk records in {@code io.lcowgd.ext4.format}. See
 * {@code docs/ext4-layers.md} for the layout, features and limits.
 *
 * <p>{@link io.lcowgd.ext4.Ext4Reader} reads any ext4 image (ours, mke2fs's, the kernel's) from a
 * {@link io.lcowgd.disk.DiskReader} without mounting it, verifying {@code metadata_csum} checksums and failing with an
 * {@link io.lcowgd.ext4.Ext4Exception} that names the structure on corrupt or hostile input; see
 * {@code docs/layer-export.md}.
 */
package io.lcowgd.ext4;
