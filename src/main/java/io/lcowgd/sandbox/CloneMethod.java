package io.lcowgd.sandbox;

/** How {@link FileCloner} copied a file. */
public enum CloneMethod {
  /** The destination shares the source's extents (FICLONE): constant time, no new data blocks. */
  REFLINK,
  /** Only the source's data extents were copied (SEEK_DATA/SEEK_HOLE); holes stay holes. */
  SPARSE_COPY
}
