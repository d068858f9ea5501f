/**
 * Opening image files: {@link io.lcowgd.image.DiskImages#open} detects the container (raw ext4, fixed VHD, VHDX) from
 * the bytes and returns the virtual disk as an {@link io.lcowgd.disk.DiskReader}.
 */
package io.lcowgd.image;
