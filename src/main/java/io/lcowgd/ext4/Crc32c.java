package io.lcowgd.ext4;

/**
 * The raw CRC-32C (Castagnoli) update function as ext4 uses it: {@code ext4_chksum(seed, data)} with neither the
 * initial nor the final inversion that {@link java.util.zip.CRC32C} applies, so seeds chain across calls.
 */
final class Crc32c {
  private static final int[][] TABLE = new int[8][256];

  static {
    for (int i = 0; i < 256; i++) {
      int c = i;
      for (int k = 0; k < 8; k++) {
        c = (c & 1) != 0 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1;
      }
      TABLE[0][i] = c;
    }
    for (int i = 0; i < 256; i++) {
      for (int t = 1; t < 8; t++) {
        int prev = TABLE[t - 1][i];
        TABLE[t][i] = (prev >>> 8) ^ TABLE[0][prev & 0xFF];
      }
    }
  }

  private Crc32c() {}

  /** Continues a raw CRC-32C from {@code crc} over {@code len} bytes of {@code b} starting at {@code off}. */
  static int update(int crc, byte[] b, int off, int len) {
    int i = off;
    int end = off + len;
    while (end - i >= 8) {
      int lo = crc ^ ((b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24);
      crc = TABLE[7][lo & 0xFF] ^ TABLE[6][(lo >>> 8) & 0xFF] ^ TABLE[5][(lo >>> 16) & 0xFF] ^ TABLE[4][lo >>> 24]
          ^ TABLE[3][b[i + 4] & 0xFF] ^ TABLE[2][b[i + 5] & 0xFF] ^ TABLE[1][b[i + 6] & 0xFF]
          ^ TABLE[0][b[i + 7] & 0xFF];
      i += 8;
    }
    while (i < end) {
      crc = (crc >>> 8) ^ TABLE[0][(crc ^ b[i++]) & 0xFF];
    }
    return crc;
  }

  /** Continues a raw CRC-32C over the four little-endian bytes of {@code v}. */
  static int updateInt(int crc, int v) {
    byte[] b = {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    return update(crc, b, 0, 4);
  }

  /** Continues a raw CRC-32C over the eight little-endian bytes of {@code v}. */
  static int updateLong(int crc, long v) {
    return updateInt(updateInt(crc, (int) v), (int) (v >>> 32));
  }

  /** Continues a raw CRC-32C over {@code n} zero bytes. */
  static int updateZeros(int crc, int n) {
    for (int i = 0; i < n; i++) {
      crc = (crc >>> 8) ^ TABLE[0][crc & 0xFF];
    }
    return crc;
  }
}
