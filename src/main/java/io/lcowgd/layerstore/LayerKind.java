package io.lcowgd.layerstore;

/** What a layer directory holds. */
public enum LayerKind {
  /** An image layer: {@code layer.vhd}. */
  IMAGE,
  /** A read-write layer: {@code sandbox.vhdx}. */
  SANDBOX,
  /** Made by Create and neither filled by ApplyDiff nor mounted yet: contributes nothing. */
  EMPTY
}
