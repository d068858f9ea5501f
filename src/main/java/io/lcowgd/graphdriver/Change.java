package io.lcowgd.graphdriver;

/** One entry of {@code GraphDriver.Changes}: an absolute path in the layer and what happened to it. */
public record Change(String path, Kind kind) {

  /** moby's {@code archive.ChangeType}: the wire value is the ordinal-like {@link #code()}. */
  public enum Kind {
    MODIFY(0),
    ADD(1),
    DELETE(2);

    private final int code;

    Kind(int code) {
      this.code = code;
    }

    /** The integer dockerd expects in {@code "Kind"}. */
    public int code() {
      return code;
    }
  }
}
