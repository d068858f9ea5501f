/**
 * On-disk ext4 structures as plain records with named offsets and explicit little-endian encoding; no layout policy
 * and no I/O (JDK only).
 *
 * <p>Every structure has a static {@code decode(ByteBuffer)} that reads at the buffer's position and advances past
 * the structure, and an {@code encode(ByteBuffer)} that writes at the position and advances; the buffer's own byte
 * order is ignored. Integer conventions: u8/u16 fields are {@code int}, u32 fields are {@code long} holding the
 * unsigned value, u64 fields are {@code long}. Feature and inode flags are distinct enums per family
 * ({@link io.lcowgd.ext4.format.CompatFeature}, {@link io.lcowgd.ext4.format.IncompatFeature},
 * {@link io.lcowgd.ext4.format.RoCompatFeature}, {@link io.lcowgd.ext4.format.InodeFlag}).
 *
 * <p>Structures: {@link io.lcowgd.ext4.format.Superblock}, {@link io.lcowgd.ext4.format.GroupDescriptor},
 * {@link io.lcowgd.ext4.format.Inode} (+ {@link io.lcowgd.ext4.format.Ext4Time}),
 * {@link io.lcowgd.ext4.format.ExtentHeader}, {@link io.lcowgd.ext4.format.ExtentLeaf},
 * {@link io.lcowgd.ext4.format.ExtentIndex}, {@link io.lcowgd.ext4.format.DirectoryEntry},
 * {@link io.lcowgd.ext4.format.XattrEntry}, {@link io.lcowgd.ext4.format.XattrBlockHeader} and
 * {@link io.lcowgd.ext4.format.Xattr} (constants, name prefixes, hashes); checksums in
 * {@link io.lcowgd.ext4.format.Ext4Checksums}. Reference: https://docs.kernel.org/filesystems/ext4/ and
 * {@code shared/docs/formats.md} §2.
 */
package io.lcowgd.ext4.format;
