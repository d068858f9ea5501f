/**
 * Conversions between layer tars and layer images. {@link io.lcowgd.convert.TarToExt4#convert} turns a docker layer
 * tar (read as a stream with commons-compress) into ext4 in a fixed VHD, applying docker layer semantics (later
 * entries win, AUFS whiteouts become overlay whiteouts) and rejecting hostile input with one-line errors that name
 * the entry ({@link io.lcowgd.convert.LayerTarException}). Options: {@link io.lcowgd.convert.ConvertOptions};
 * result: {@link io.lcowgd.convert.ConvertResult}.
 *
 * <p>The other direction: {@link io.lcowgd.convert.Ext4ToTar#export} streams an image (a layer, or a sandbox's overlay
 * upper dir, see {@link io.lcowgd.convert.ExportMode}) as a layer tar with AUFS whiteouts, and
 * {@link io.lcowgd.convert.LayerChanges} computes Changes and DiffSize over chains of
 * {@link io.lcowgd.convert.TreeView}s, the layer trees of ext4 images ({@link io.lcowgd.convert.LayerView}) or of a
 * guest's listings ({@link io.lcowgd.convert.ListingView}, parsed by {@link io.lcowgd.convert.GuestListing}), and
 * squashed diffs of images (see {@code docs/layer-export.md}).
 */
package io.lcowgd.convert;
