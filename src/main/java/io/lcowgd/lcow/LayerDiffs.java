package io.lcowgd.lcow;

import io.lcowgd.convert.ConvertOptions;
import io.lcowgd.convert.ConvertResult;
import io.lcowgd.convert.ExportMode;
import io.lcowgd.convert.Ext4ToTar;
import io.lcowgd.convert.LayerChanges;
import io.lcowgd.convert.LayerView;
import io.lcowgd.disk.FileRangeDisk;
import io.lcowgd.disk.PayloadRange;
import io.lcowgd.ext4.Ext4Reader;
import io.lcowgd.graphdriver.Change;
import io.lcowgd.graphdriver.GraphDriverException;
import io.lcowgd.graphdriver.TarStream;
import io.lcowgd.io.Failures;
import io.lcowgd.layerstore.Layer;
import io.lcowgd.layerstore.LayerKind;
import io.lcowgd.layerstore.LayerStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * ApplyDiff (tar to {@code layer.vhd}) and Diff, Changes, DiffSize (read straight from the images, without
 * mounting): a layer's changes against an ancestor are the union of the layers from it down to (excluding) the
 * ancestor, compared with the union of the ancestor's chain. A mounted sandbox is flushed ({@code syncfs}) before
 * its image file is read.
 */
final class LayerDiffs {
  private LayerDiffs() {}

  /** Converts {@code tar} into layer {@code id}'s {@code layer.vhd}; returns the summed size of the tar's files. */
  static long applyDiff(LcowDriver.Context c, String id, String parent, InputStream tar) throws IOException {
    Layer l = c.store().layer(id);
    if (parent != null && !parent.equals(l.parent())) {
      throw GraphDriverException.invalidArgument("ApplyDiff " + id + ": parent " + parent + " is not the layer's parent ("
          + (l.parent() == null ? "none" : l.parent()) + ")");
    }
    if (l.kind() != LayerKind.EMPTY) {
      throw GraphDriverException.failedPrecondition("ApplyDiff " + id + ": the layer already has content ("
          + l.image().getFileName() + ")");
    }
    ConvertResult[] result = new ConvertResult[1];
    try {
      c.store().addFile(id, LayerStore.LAYER_VHD, staged -> {
        result[0] = io.lcowgd.convert.TarToExt4.convert(tar, staged, ConvertOptions.defaults());
        tar.transferTo(OutputStream.nullOutputStream()); // dockerd expects the body read to its end
      });
    } catch (GraphDriverException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException("ApplyDiff " + id + ": " + e.getMessage(), e);
    }
    return result[0].contentSize();
  }

  static List<Change> changes(LcowDriver.Context c, String id, String parent) throws IOException {
    try (Views v = Views.open(c, id, parent, "Changes")) {
      return LayerChanges.changes(v.top, v.base);
    }
  }

  static long diffSize(LcowDriver.Context c, String id, String parent) throws IOException {
    try (Views v = Views.open(c, id, parent, "DiffSize")) {
      return LayerChanges.diffSize(v.top, v.base);
    }
  }

  /**
   * Diff: everything is validated and opened here; the returned stream writes the tar. Against the immediate parent
   * the layer's own tree is exported as is; against an older ancestor the squashed changes are written.
   */
  static TarStream diff(LcowDriver.Context c, String id, String parent) throws IOException {
    Views v = Views.open(c, id, parent, "Diff");
    return new TarStream() {
      @Override
      public void writeTo(OutputStream out) throws IOException {
        if (v.top.size() == 1) {
          LayerView only = v.top.get(0);
          Ext4ToTar.export(only.image(), only.mode(), out);
        } else {
          LayerChanges.writeDiffTar(v.top, v.base, out);
        }
      }

      @Override
      public void close() throws IOException {
        v.close();
      }
    };
  }

  /** The opened images of a layer's own part of the chain ({@code top}) and of the ancestor's chain ({@code base}). */
  private static final class Views implements AutoCloseable {
    final List<LayerView> top = new ArrayList<>();
    final List<LayerView> base = new ArrayList<>();

    static Views open(LcowDriver.Context c, String id, String parent, String op) throws IOException {
      Layer l = c.store().layer(id);
      List<String> chain = new ArrayList<>();
      chain.add(id);
      chain.addAll(l.parents());
      int split; // index of the ancestor in chain
      if (parent == null) {
        split = 1;
      } else {
        split = chain.indexOf(parent);
        if (split < 1) {
          throw GraphDriverException.invalidArgument(op + " " + id + ": " + parent + " is not an ancestor of " + id);
        }
      }
      Views v = new Views();
      try {
        for (int i = 0; i < chain.size(); i++) {
          LayerView view = view(c, c.store().layer(chain.get(i)));
          if (view != null) {
            (i < split ? v.top : v.base).add(view);
          }
        }
      } catch (IOException | RuntimeException e) {
        try {
          v.close();
        } catch (IOException s) {
          e.addSuppressed(s);
        }
        if (e instanceof GraphDriverException) {
          throw e;
        }
        throw new IOException(op + " " + id + ": " + e.getMessage(), e);
      }
      return v;
    }

    /** Opens one layer's image as a view; null for an EMPTY layer (no content). */
    private static LayerView view(LcowDriver.Context c, Layer l) throws IOException {
      if (l.kind() == LayerKind.EMPTY) {
        return null;
      }
      if (l.kind() == LayerKind.SANDBOX) {
        c.pool().sync(l.image()); // a mounted sandbox: push its page cache into the file first
      }
      PayloadRange r = ImagePayload.of(l);
      FileRangeDisk disk = FileRangeDisk.open(l.image(), r.offset(), r.length());
      try {
        return new LayerView(Ext4Reader.open(disk),
            l.kind() == LayerKind.IMAGE ? ExportMode.LAYER : ExportMode.SANDBOX);
      } catch (IOException | RuntimeException e) {
        disk.close();
        throw new IOException(l.image() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void close() throws IOException {
      IOException failure = null;
      for (List<LayerView> list : List.of(top, base)) {
        for (LayerView v : list) {
          try {
            v.image().close();
          } catch (IOException e) {
            failure = Failures.add(failure, e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
