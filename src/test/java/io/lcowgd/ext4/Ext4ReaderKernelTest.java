package io.lcowgd.ext4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.testing.HostTools;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Reads images made by mke2fs and written by the kernel through a loop mount, and requires the reader's view of every
 * path (metadata, content digest, symlink target, device numbers, xattrs) to equal the kernel's view of the same image.
 */
class Ext4ReaderKernelTest {
  @TempDir Path tmp;

  static List<Arguments> layouts() {
    return List.of(
        Arguments.of("default features, 1 KiB blocks (mke2fs 'small')", List.of()),
        Arguments.of("default features, 4 KiB blocks", List.of("-b", "4096")),
        Arguments.of("inline_data", List.of("-b", "4096", "-O", "inline_data")),
        Arguments.of("no metadata_csum, no 64bit, 128-byte inodes",
            List.of("-b", "4096", "-I", "128", "-O", "^metadata_csum,^64bit")),
        Arguments.of("bigalloc-free 2 KiB blocks with meta_bg", List.of("-b", "2048", "-O", "meta_bg,^resize_inode")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("layouts")
  void readerSeesWhatTheKernelSees(String label, List<String> mkfsOptions) throws IOException {
    assumeTrue(HostTools.isRoot(), "needs root for loop mounts");
    Path img = KernelImages.build(tmp.resolve("k.img"), 160, mkfsOptions, root -> KernelImages.rich(root, 42));
    Map<String, String> kernel = KernelImages.withMount(img, true, TreeSnapshot::ofMount);
    try (Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(img))) {
      Map<String, String> ours = TreeSnapshot.ofReader(r);
      assertTrue(kernel.size() > 2500, "fixture too small: " + kernel.size());
      for (String k : kernel.keySet()) {
        assertEquals(kernel.get(k), ours.get(k), label + ": " + k);
      }
      assertEquals(kernel.keySet(), ours.keySet(), label);
    }
  }
}
