/**
 * The fixed-VHD footer (JDK only): {@link io.lcowgd.vhd.VhdFooter} builds, parses and validates the 512-byte
 * big-endian trailer that turns a raw ext4 image into {@code layer.vhd}, and probes files with
 * {@link io.lcowgd.vhd.VhdFooter#isFixedVhd}.
 */
package io.lcowgd.vhd;
