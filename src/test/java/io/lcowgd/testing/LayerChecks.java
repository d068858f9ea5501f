package io.lcowgd.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lcowgd.convert.ConvertOptions;
import io.lcowgd.convert.ConvertResult;
import io.lcowgd.convert.TarToExt4;
import io.lcowgd.vhd.VhdFooter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Converts tars with {@link TarToExt4} and checks the result with the independent oracles: the VHD footer validates,
 * {@code e2fsck -fn} exits 0, and the loop-mounted tree equals GNU tar's extraction.
 */
public final class LayerChecks {
  private LayerChecks() {}

  /** Converts {@code tar} (read as a file, so large entries take the direct-copy path) and checks the image. */
  public static ConvertResult convert(Path tar, Path vhd) throws IOException, InterruptedException {
    return convert(tar, vhd, ConvertOptions.defaults());
  }

  public static ConvertResult convert(Path tar, Path vhd, ConvertOptions opt) throws IOException, InterruptedException {
    ConvertResult r;
    try (InputStream in = new FileInputStream(tar.toFile())) {
      r = TarToExt4.convert(in, vhd, opt);
    }
    checkImage(vhd, r, opt);
    return r;
  }

  /** Converts from a plain (non-file) stream, exercising the buffered copy path. */
  public static ConvertResult convertStream(InputStream in, Path vhd, ConvertOptions opt)
      throws IOException, InterruptedException {
    ConvertResult r = TarToExt4.convert(in, vhd, opt);
    checkImage(vhd, r, opt);
    return r;
  }

  private static void checkImage(Path vhd, ConvertResult r, ConvertOptions opt)
      throws IOException, InterruptedException {
    assertEquals(r.imageSize(), Files.size(vhd), "image size");
    if (opt.appendVhdFooter()) {
      VhdFooter f = VhdFooter.readFixed(vhd);
      assertEquals(Files.size(vhd) - VhdFooter.SIZE, f.currentSize());
      assertEquals(f.currentSize(), f.chsSize(), "payload size is CHS-exact");
      assertTrue(f.currentSize() >= r.ext4Size());
    }
    E2fsck.assertClean(vhd);
  }

  /** Loop-mounts the ext4 image inside {@code vhd} (footer excluded) read-only. */
  public static LoopMount mount(Path vhd) throws IOException, InterruptedException {
    long size = Files.size(vhd);
    boolean footer = VhdFooter.isFixedVhd(vhd);
    return LoopMount.ext4(vhd, footer ? size - VhdFooter.SIZE : size);
  }

  /**
   * Asserts that the image's tree equals what GNU tar extracts from {@code tar}. The reference is extracted into
   * tmpfs ({@code /dev/shm}, which keeps all xattr namespaces) when available, else under {@code work}.
   */
  public static void assertMatchesGnuTar(Path tar, Path vhd, Path work, TreeCompare.Options opt)
      throws IOException, InterruptedException {
    Path shm = Path.of("/dev/shm");
    Path ref = Files.createTempDirectory(Files.isDirectory(shm) && Files.isWritable(shm) ? shm : work, "lcow-gnutar-");
    try {
      TarFixtures.extractWithGnuTar(tar, ref);
      try (LoopMount m = mount(vhd)) {
        TreeCompare.assertSameTree(ref, m.root(), opt);
      }
    } finally {
      HostTools.run(java.util.List.of("rm", "-rf", ref.toString()), 600);
    }
  }
}
