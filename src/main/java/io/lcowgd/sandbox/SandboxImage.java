package io.lcowgd.sandbox;

import io.lcowgd.disk.PayloadRange;
import io.lcowgd.io.HostCommand;
import io.lcowgd.vhdx.VhdxWriter;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes one blank sandbox image from nothing: a sparse fixed VHDX ({@link VhdxWriter#createContiguous}) holding an
 * empty, writable ext4 formatted in place by e2fsprogs' {@code mke2fs} at the payload offset.
 *
 * <p>The ext4 has the original driver's options (no journal, {@code sparse_super2}, no resize inode) plus
 * {@code metadata_csum} (which implies uninitialised block groups), 4 KiB blocks and 256-byte inodes. Features are
 * pinned by a private {@code mke2fs.conf}, so the host's configuration cannot add features (e.g. {@code orphan_file})
 * that older guest kernels refuse. {@code mke2fs} discards (punches) the payload first; on a regular file a discard
 * reads back as zeros, so mke2fs marks every inode table as zeroed without writing it: the image stays sparse
 * (~200 KiB allocated for 20 GiB) and the kernel never starts a lazy inode-table zeroing thread.
 */
public final class SandboxImage {
  /** ext4 block size. */
  public static final int FS_BLOCK_SIZE = 4096;

  private static final String MKE2FS_CONF = String.join("\n",
      "[defaults]",
      "\tbase_features = sparse_super,large_file,filetype,dir_index,ext_attr",
      "\tdefault_mntopts = acl,user_xattr",
      "\tenable_periodic_fsck = 0",
      "\tblocksize = 4096",
      "\tinode_size = 256",
      "\tinode_ratio = 16384",
      "[fs_types]",
      "\text4 = {",
      "\t\tfeatures = extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize,sparse_super2",
      "\t}",
      "");

  /** The mke2fs run of every sandbox and scratch template, on the host or in a service VM. */
  public static final Mke2fsSpec SPEC = new Mke2fsSpec(MKE2FS_CONF, List.of("-t", "ext4", "-b",
      Integer.toString(FS_BLOCK_SIZE), "-O", "^has_journal,^resize_inode,sparse_super2"),
      "lazy_itable_init=1,root_owner=0:0", FS_BLOCK_SIZE);

  private SandboxImage() {}

  /**
   * Creates {@code out} (which must not exist) as a VHDX of {@code virtualSize} bytes (a multiple of 4 KiB) holding
   * an empty ext4, flushed to disk. Returns the payload range where the filesystem starts. On failure {@code out} is
   * removed. Formatted by the host's {@code mke2fs}.
   */
  public static PayloadRange create(Path out, long virtualSize) throws IOException {
    return create(out, virtualSize, Ext4Formatter.HOST);
  }

  /** As {@link #create(Path, long)}, with the ext4 made by {@code formatter} (with {@link #SPEC}). */
  public static PayloadRange create(Path out, long virtualSize, Ext4Formatter formatter) throws IOException {
    if (virtualSize <= 0 || virtualSize % FS_BLOCK_SIZE != 0) {
      throw new IllegalArgumentException("sandbox size " + virtualSize + " must be a positive multiple of 4096");
    }
    PayloadRange range = VhdxWriter.createContiguous(out, virtualSize, VhdxWriter.DEFAULT_BLOCK_SIZE);
    try {
      formatter.format(out, range, SPEC);
      try (FileChannel ch = FileChannel.open(out, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      return range;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(out);
      throw e;
    }
  }

  /** {@link Ext4Formatter#HOST}: the host's mke2fs on the image file at the payload offset. */
  static void hostMke2fs(Path image, PayloadRange range, Mke2fsSpec spec) throws IOException {
    Path conf = Files.createTempFile("lcow-mke2fs", ".conf");
    try {
      Files.writeString(conf, spec.config());
      List<String> cmd = new ArrayList<>();
      cmd.add(mke2fsBinary());
      cmd.addAll(spec.arguments(range.offset(), Mke2fsSpec.HOST_ZEROING));
      cmd.add(image.toString());
      cmd.add(Long.toString(range.length() / spec.blockSize()));
      HostCommand.of(cmd, "format " + image + " with the host's mke2fs").environment("MKE2FS_CONFIG", conf.toString())
          .timeout(Duration.ofSeconds(120)).run();
    } finally {
      Files.deleteIfExists(conf);
    }
  }

  static String mke2fsBinary() {
    for (String dir : List.of("/usr/sbin", "/sbin")) {
      Path p = Path.of(dir, "mke2fs");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return "mke2fs";
  }
}
