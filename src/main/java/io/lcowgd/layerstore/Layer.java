package io.lcowgd.layerstore;

import java.nio.file.Path;
import java.util.List;

/**
 * A snapshot of one complete layer.
 *
 * @param id the layer id
 * @param dir its directory {@code <root>/<id>}
 * @param parents parent ids, nearest first (from {@code layerchain.json})
 * @param kind what it holds now
 */
public record Layer(String id, Path dir, List<String> parents, LayerKind kind) {
  public Layer {
    parents = List.copyOf(parents);
  }

  /** The image file: {@code layer.vhd} for IMAGE, {@code sandbox.vhdx} otherwise (which may not exist yet). */
  public Path image() {
    return dir.resolve(kind == LayerKind.IMAGE ? LayerStore.LAYER_VHD : LayerStore.SANDBOX_VHDX);
  }

  /** The nearest parent, or null for a base layer. */
  public String parent() {
    return parents.isEmpty() ? null : parents.get(0);
  }
}
