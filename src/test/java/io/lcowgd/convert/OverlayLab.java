package io.lcowgd.convert;

import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.ext4.KernelImages;
import io.lcowgd.testing.HostTools;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds layer chains the way the kernel would: read-only layer images (whole filesystem) and sandbox images whose
 * {@code upper/} is written through a real overlayfs mount over the loop-mounted lower layers. Also mounts a chain as
 * a read-only overlay, the oracle for what a union of layers looks like.
 */
final class OverlayLab implements Closeable {
  /** An image and how it contributes to a chain. */
  record Layer(Path image, ExportMode mode) {}

  private final Path dir;
  private final List<Ext4Reader> opened = new ArrayList<>();
  private int counter;

  OverlayLab(Path dir) {
    this.dir = dir;
  }

  /** A read-only layer image populated directly (its tree is the whole filesystem). */
  Layer layer(KernelImages.Populator pop) throws IOException {
    Path img = dir.resolve("layer" + (counter++) + ".img");
    KernelImages.build(img, 32, List.of(), pop);
    return new Layer(img, ExportMode.LAYER);
  }

  /** A sandbox image whose upper dir records what {@code pop} does in an overlay over {@code lowers} (nearest first). */
  Layer sandbox(List<Layer> lowers, KernelImages.Populator pop) throws IOException {
    Path img = dir.resolve("sandbox" + (counter++) + ".img");
    KernelImages.build(img, 32, List.of(), root -> {
      Files.createDirectory(root.resolve("upper"));
      Files.createDirectory(root.resolve("work"));
      withUnion(lowers, root.resolve("upper"), root.resolve("work"), pop::populate);
    });
    return new Layer(img, ExportMode.SANDBOX);
  }

  /** Mounts {@code chain} read-only as one overlay (or the single layer's tree) and runs {@code body} on it. */
  <T> T withUnionReadOnly(List<Layer> chain, KernelImages.MountedBody<T> body) throws IOException {
    if (chain.size() == 1) {
      return KernelImages.withMount(chain.get(0).image(), true,
          mp -> body.run(chain.get(0).mode() == ExportMode.SANDBOX ? mp.resolve("upper") : mp));
    }
    List<T> result = new ArrayList<>();
    withUnion(chain, null, null, mp -> result.add(body.run(mp)));
    return result.get(0);
  }

  private void withUnion(List<Layer> lowers, Path upper, Path work, KernelImages.Populator body) throws IOException {
    List<Path> mounts = new ArrayList<>();
    try {
      StringBuilder lowerdir = new StringBuilder();
      for (Layer l : lowers) {
        Path mp = Files.createTempDirectory(dir, "low");
        HostTools.check("mount", "-t", "ext4", "-o", "ro,loop", l.image().toString(), mp.toString());
        mounts.add(mp);
        if (lowerdir.length() > 0) {
          lowerdir.append(':');
        }
        lowerdir.append(l.mode() == ExportMode.SANDBOX ? mp.resolve("upper") : mp);
      }
      Path merged = Files.createTempDirectory(dir, "merged");
      String opts = "lowerdir=" + lowerdir + (upper == null ? "" : ",upperdir=" + upper + ",workdir=" + work);
      HostTools.check("mount", "-t", "overlay", "overlay", "-o", opts, merged.toString());
      try {
        body.populate(merged);
      } finally {
        HostTools.check("umount", merged.toString());
        Files.delete(merged);
      }
    } finally {
      for (Path mp : mounts) {
        HostTools.check("umount", mp.toString());
        Files.delete(mp);
      }
    }
  }

  /** Opens the layer's image (closed with the lab) as a {@link LayerView}. */
  LayerView view(Layer l) throws IOException {
    Ext4Reader r = Ext4Reader.open(FileRangeDisk.open(l.image()));
    opened.add(r);
    return new LayerView(r, l.mode());
  }

  /** Views of several layers, in the given order. */
  List<LayerView> views(List<Layer> ls) throws IOException {
    List<LayerView> out = new ArrayList<>();
    for (Layer l : ls) {
      out.add(view(l));
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    for (Ext4Reader r : opened) {
      r.close();
    }
  }
}
