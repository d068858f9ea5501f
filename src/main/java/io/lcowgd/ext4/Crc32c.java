package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Ext4Checksums;

/**
 * The raw CRC-32C update as ext4 uses it ({@code ext4_chksum(seed, data)}: no initial or final inversion, so seeds
 * chain across calls), with the small helpers the reader's checksum checks need. Delegates to
 * {@link Ext4Checksums#crc32c(int, byte[], int, int)} (hardware-accelerated {@link java.util.zip.CRC32C}).
 */
final class Crc32c {
  private static final byte[] ZEROS = new byte[8];

  private Crc32c() {}

  /** Continues a raw CRC-32C from {@code crc} over {@code len} bytes of {@code b} starting at {@code off}. */
  static int update(int crc, byte[] b, int off, int len) {
    return Ext4Checksums.crc32c(crc, b, off, len);
  }

  /** Continues a raw CRC-32C over {@code n} (at most 8) zero bytes. */
  static int updateZeros(int crc, int n) {
    return update(crc, ZEROS, 0, n);
  }
}
