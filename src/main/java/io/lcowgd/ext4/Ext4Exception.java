package io.lcowgd.ext4;

import java.io.IOException;

/**
 * A corrupt, hostile or unsupported ext4 image: the message names the structure (superblock, group descriptor N,
 * inode N, extent block B, directory block, xattr block B) and what is wrong with it.
 */
public final class Ext4Exception extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the structure. */
  public Ext4Exception(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the structure and the underlying cause. */
  public Ext4Exception(String message, Throwable cause) {
    super(message, cause);
  }
}
