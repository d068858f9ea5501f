package io.lcowgd.vhd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The 512-byte footer of a VHD file (big-endian), which for a <em>fixed</em> disk is the only metadata: the payload
 * (the raw disk) runs from offset 0 to {@code currentSize} and the footer follows it.
 *
 * <p>Fields as in the "Virtual Hard Disk Image Format Specification" v1.0; see {@code formats.md} §3.
 */
public record VhdFooter(
    long features, long formatVersion, long dataOffset, long timestamp, String creatorApplication,
    long creatorVersion, long creatorHostOs, long originalSize, long currentSize, int geometry, long diskType,
    long checksum, byte[] uniqueId, int savedState) {

  public static final int SIZE = 512;
  public static final byte[] COOKIE = "conectix".getBytes(StandardCharsets.US_ASCII);
  public static final long FEATURES_RESERVED = 0x2;
  public static final long VERSION_1_0 = 0x0001_0000L;
  public static final long DATA_OFFSET_FIXED = -1L;
  public static final long DISK_TYPE_FIXED = 2;
  public static final long DISK_TYPE_DYNAMIC = 3;
  public static final long DISK_TYPE_DIFFERENCING = 4;
  /** Creator application written by this project. */
  public static final String CREATOR_APP = "lcow";
  public static final long CREATOR_VERSION = 0x0001_0000L;
  /** Creator host OS "Wi2k" (the spec knows only Windows and Macintosh). */
  public static final long HOST_OS_WINDOWS = 0x5769_326BL;

  public static final int COOKIE_OFF = 0;
  public static final int FEATURES_OFF = 8;
  public static final int FORMAT_VERSION_OFF = 12;
  public static final int DATA_OFFSET_OFF = 16;
  public static final int TIMESTAMP_OFF = 24;
  public static final int CREATOR_APP_OFF = 28;
  public static final int CREATOR_VERSION_OFF = 32;
  public static final int CREATOR_HOST_OS_OFF = 36;
  public static final int ORIGINAL_SIZE_OFF = 40;
  public static final int CURRENT_SIZE_OFF = 48;
  public static final int GEOMETRY_OFF = 56;
  public static final int DISK_TYPE_OFF = 60;
  public static final int CHECKSUM_OFF = 64;
  public static final int UNIQUE_ID_OFF = 68;
  public static final int SAVED_STATE_OFF = 84;

  public VhdFooter {
    uniqueId = uniqueId.clone();
    if (uniqueId.length != 16) {
      throw new IllegalArgumentException("unique id must be 16 bytes");
    }
  }

  /**
   * A fixed-disk footer for a payload of {@code size} bytes: CHS geometry from the spec's algorithm, timestamp 0
   * (deterministic output), creator {@code "lcow"}, and the given unique id; checksum filled in.
   */
  public static VhdFooter fixed(long size, byte[] uniqueId) {
    if (size <= 0 || size % 512 != 0) {
      throw new IllegalArgumentException("fixed VHD payload must be a positive multiple of 512 bytes, got " + size);
    }
    VhdFooter f = new VhdFooter(FEATURES_RESERVED, VERSION_1_0, DATA_OFFSET_FIXED, 0, CREATOR_APP, CREATOR_VERSION,
        HOST_OS_WINDOWS, size, size, chsGeometry(size), DISK_TYPE_FIXED, 0, uniqueId, 0);
    return f.withChecksum(checksum(f.encodeRaw()));
  }

  private VhdFooter withChecksum(long c) {
    return new VhdFooter(features, formatVersion, dataOffset, timestamp, creatorApplication, creatorVersion,
        creatorHostOs, originalSize, currentSize, geometry, diskType, c, uniqueId, savedState);
  }

  /** The encoded 512 bytes, with {@link #checksum} as stored. */
  public byte[] encode() {
    return encodeRaw();
  }

  private byte[] encodeRaw() {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.BIG_ENDIAN);
    b.put(COOKIE_OFF, COOKIE);
    b.putInt(FEATURES_OFF, (int) features);
    b.putInt(FORMAT_VERSION_OFF, (int) formatVersion);
    b.putLong(DATA_OFFSET_OFF, dataOffset);
    b.putInt(TIMESTAMP_OFF, (int) timestamp);
    b.put(CREATOR_APP_OFF, Arrays.copyOf(creatorApplication.getBytes(StandardCharsets.US_ASCII), 4));
    b.putInt(CREATOR_VERSION_OFF, (int) creatorVersion);
    b.putInt(CREATOR_HOST_OS_OFF, (int) creatorHostOs);
    b.putLong(ORIGINAL_SIZE_OFF, originalSize);
    b.putLong(CURRENT_SIZE_OFF, currentSize);
    b.putInt(GEOMETRY_OFF, geometry);
    b.putInt(DISK_TYPE_OFF, (int) diskType);
    b.putInt(CHECKSUM_OFF, (int) checksum);
    b.put(UNIQUE_ID_OFF, uniqueId);
    b.put(SAVED_STATE_OFF, (byte) savedState);
    return b.array();
  }

  /**
   * Decodes 512 bytes, checking the cookie and the checksum over the raw bytes (use {@link #validateFixed} for the
   * fixed-disk checks).
   */
  public static VhdFooter decode(byte[] b) throws VhdFormatException {
    if (b.length != SIZE) {
      throw new VhdFormatException("VHD footer must be 512 bytes, got " + b.length);
    }
    if (!Arrays.equals(Arrays.copyOf(b, 8), COOKIE)) {
      throw new VhdFormatException("no VHD footer: cookie is not \"conectix\"");
    }
    ByteBuffer v = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
    long stored = v.getInt(CHECKSUM_OFF) & 0xFFFF_FFFFL;
    long computed = checksum(b);
    if (stored != computed) {
      throw new VhdFormatException(String.format("VHD footer checksum 0x%08x does not match 0x%08x", stored, computed));
    }
    byte[] app = Arrays.copyOfRange(b, CREATOR_APP_OFF, CREATOR_APP_OFF + 4);
    return new VhdFooter(
        v.getInt(FEATURES_OFF) & 0xFFFF_FFFFL, v.getInt(FORMAT_VERSION_OFF) & 0xFFFF_FFFFL,
        v.getLong(DATA_OFFSET_OFF), v.getInt(TIMESTAMP_OFF) & 0xFFFF_FFFFL,
        new String(app, StandardCharsets.ISO_8859_1), v.getInt(CREATOR_VERSION_OFF) & 0xFFFF_FFFFL,
        v.getInt(CREATOR_HOST_OS_OFF) & 0xFFFF_FFFFL, v.getLong(ORIGINAL_SIZE_OFF), v.getLong(CURRENT_SIZE_OFF),
        v.getInt(GEOMETRY_OFF), v.getInt(DISK_TYPE_OFF) & 0xFFFF_FFFFL, v.getInt(CHECKSUM_OFF) & 0xFFFF_FFFFL,
        Arrays.copyOfRange(b, UNIQUE_ID_OFF, UNIQUE_ID_OFF + 16), b[SAVED_STATE_OFF] & 0xFF);
  }

  /**
   * Checks that this is a valid fixed-disk footer for a payload of {@code payloadSize} bytes: checksum, disk type
   * fixed, data offset all ones, current size equal to the payload, payload a multiple of 512.
   */
  public void validateFixed(long payloadSize) throws VhdFormatException {
    byte[] raw = encodeRaw();
    long expect = checksum(raw);
    if (expect != checksum) {
      throw new VhdFormatException(String.format("VHD footer checksum 0x%08x does not match 0x%08x", checksum, expect));
    }
    if (diskType != DISK_TYPE_FIXED) {
      throw new VhdFormatException("VHD disk type " + diskType + " is not fixed (2)");
    }
    if (dataOffset != DATA_OFFSET_FIXED) {
      throw new VhdFormatException("fixed VHD data offset must be 0xFFFFFFFFFFFFFFFF");
    }
    if (payloadSize % 512 != 0) {
      throw new VhdFormatException("fixed VHD payload of " + payloadSize + " bytes is not a multiple of 512");
    }
    if (currentSize != payloadSize) {
      throw new VhdFormatException("VHD footer says " + currentSize + " bytes but the payload has " + payloadSize);
    }
  }

  /** One's complement of the byte sum of all 512 bytes with the checksum field taken as zero. */
  public static long checksum(byte[] footer) {
    long sum = 0;
    for (int i = 0; i < SIZE; i++) {
      if (i < CHECKSUM_OFF || i >= CHECKSUM_OFF + 4) {
        sum += footer[i] & 0xFF;
      }
    }
    return ~sum & 0xFFFF_FFFFL;
  }

  /** CHS geometry ({@code cylinders << 16 | heads << 8 | sectorsPerTrack}) per the VHD specification's appendix. */
  public static int chsGeometry(long size) {
    long totalSectors = size / 512;
    if (totalSectors > 65535L * 16 * 255) {
      totalSectors = 65535L * 16 * 255;
    }
    long spt;
    long heads;
    long cylTimesHeads;
    if (totalSectors >= 65535L * 16 * 63) {
      spt = 255;
      heads = 16;
      cylTimesHeads = totalSectors / spt;
    } else {
      spt = 17;
      cylTimesHeads = totalSectors / spt;
      heads = (cylTimesHeads + 1023) / 1024;
      if (heads < 4) {
        heads = 4;
      }
      if (cylTimesHeads >= heads * 1024 || heads > 16) {
        spt = 31;
        heads = 16;
        cylTimesHeads = totalSectors / spt;
      }
      if (cylTimesHeads >= heads * 1024) {
        spt = 63;
        heads = 16;
        cylTimesHeads = totalSectors / spt;
      }
    }
    long cylinders = cylTimesHeads / heads;
    return (int) (cylinders << 16 | heads << 8 | spt);
  }

  /** Largest disk CHS geometry can describe: 65535 cylinders, 16 heads, 255 sectors per track. */
  public static final long MAX_CHS_SIZE = 65535L * 16 * 255 * 512;

  /**
   * The smallest size at or above {@code size} (rounded to 512) that its own CHS geometry describes exactly, so
   * that readers using the footer's current size (Hyper-V) and readers using CHS geometry (Virtual PC, qemu for
   * unknown creators) agree on the disk size. Sizes above {@link #MAX_CHS_SIZE} are returned rounded to 512.
   */
  public static long chsExactSize(long size) {
    long s = (size + 511) / 512 * 512;
    if (s > MAX_CHS_SIZE) {
      return s;
    }
    for (int i = 0; i < 1000 && s <= MAX_CHS_SIZE; i++) {
      int g = chsGeometry(s);
      long unit = (long) ((g >>> 8) & 0xFF) * (g & 0xFF) * 512;
      long prod = (long) (g >>> 16) * unit;
      if (prod == s) {
        return s;
      }
      s = prod + unit;
    }
    return (size + 511) / 512 * 512;
  }

  /** Disk size described by {@link #geometry}: cylinders x heads x sectors x 512. */
  public long chsSize() {
    return (long) cylinders() * heads() * sectorsPerTrack() * 512;
  }

  /** Cylinders of {@link #geometry}. */
  public int cylinders() {
    return geometry >>> 16;
  }

  /** Heads of {@link #geometry}. */
  public int heads() {
    return (geometry >>> 8) & 0xFF;
  }

  /** Sectors per track of {@link #geometry}. */
  public int sectorsPerTrack() {
    return geometry & 0xFF;
  }

  /**
   * Turns the first {@code dataSize} bytes of {@code ch} into a fixed VHD: the payload is extended with zeros to
   * {@link #chsExactSize} and the footer written after it (the file is truncated to payload + 512). Returns the footer.
   */
  public static VhdFooter append(FileChannel ch, long dataSize, byte[] uniqueId) throws IOException {
    long payloadSize = chsExactSize(dataSize);
    VhdFooter f = fixed(payloadSize, uniqueId);
    ByteBuffer b = ByteBuffer.wrap(f.encode());
    long pos = payloadSize;
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
    ch.truncate(payloadSize + SIZE);
    return f;
  }

  /** Reads and validates the footer of the fixed VHD at {@code file}. */
  public static VhdFooter readFixed(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < SIZE) {
        throw new VhdFormatException(file + ": too small for a VHD (" + size + " bytes)");
      }
      ByteBuffer b = ByteBuffer.allocate(SIZE);
      while (b.hasRemaining()) {
        if (ch.read(b, size - SIZE + b.position()) < 0) {
          throw new VhdFormatException(file + ": unexpected end of file");
        }
      }
      VhdFooter f;
      try {
        f = decode(b.array());
        f.validateFixed(size - SIZE);
      } catch (VhdFormatException e) {
        throw new VhdFormatException(file + ": " + e.getMessage());
      }
      return f;
    }
  }

  /** True if {@code file} ends with a valid fixed-VHD footer matching its size; false otherwise (never throws for
   * format problems, only for I/O errors). */
  public static boolean isFixedVhd(Path file) throws IOException {
    try {
      readFixed(file);
      return true;
    } catch (VhdFormatException e) {
      return false;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VhdFooter f && Arrays.equals(encodeRaw(), f.encodeRaw());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encodeRaw());
  }

  @Override
  public byte[] uniqueId() {
    return uniqueId.clone();
  }
}
