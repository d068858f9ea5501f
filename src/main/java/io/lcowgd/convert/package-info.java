/**
 * Conversions between layer tars and layer images. {@link io.lcowgd.convert.TarToExt4#convert} turns a docker layer
 * tar (read as a stream with commons-compress) into ext4 in a fixed VHD, applying docker layer semantics (later
 * entries win, AUFS whiteouts become overlay whiteouts) and rejecting hostile input with one-line errors that name
 * the entry ({@link io.lcowgd.convert.LayerTarException}). Options: {@link io.lcowgd.convert.ConvertOptions};
 * result: {@link io.lcowgd.convert.ConvertResult}.
 */
package io.lcowgd.convert;
