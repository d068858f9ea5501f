package io.lcowgd.vhdx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * On-disk constants of the VHDX format ([MS-VHDX]): fixed offsets, structure signatures, region and metadata item
 * GUIDs, BAT states, and the two codecs every structure needs (CRC-32C checksums and Microsoft-order GUIDs).
 */
public final class VhdxFormat {
  private VhdxFormat() {}

  public static final long KIB = 1024;
  public static final long MIB = 1024 * KIB;

  /** The 8-byte signature at file offset 0. */
  public static final String FILE_SIGNATURE = "vhdxfile";

  public static final long HEADER1_OFFSET = 64 * KIB;
  public static final long HEADER2_OFFSET = 128 * KIB;
  public static final int HEADER_SIZE = 4096;
  public static final long REGION_TABLE1_OFFSET = 192 * KIB;
  public static final long REGION_TABLE2_OFFSET = 256 * KIB;
  public static final int REGION_TABLE_SIZE = (int) (64 * KIB);
  public static final int REGION_TABLE_MAX_ENTRIES = 2047;
  /** End of the header section: regions, the log and payload blocks live at or after this offset. */
  public static final long HEADER_SECTION_SIZE = MIB;

  public static final int METADATA_TABLE_SIZE = (int) (64 * KIB);
  public static final int METADATA_MAX_ENTRIES = 2047;
  public static final int METADATA_MAX_ITEM_LENGTH = (int) MIB;

  public static final int HEADER_SIGNATURE = 0x64616568; // "head" little-endian
  public static final int REGION_SIGNATURE = 0x69676572; // "regi"
  public static final long METADATA_SIGNATURE = 0x617461646174656dL; // "metadata"

  public static final UUID REGION_BAT = UUID.fromString("2DC27766-F623-4200-9D64-115E9BFD4A08");
  public static final UUID REGION_METADATA = UUID.fromString("8B7CA206-4790-4B9A-B8FE-575F050F886E");

  public static final UUID ITEM_FILE_PARAMETERS = UUID.fromString("CAA16737-FA36-4D43-B3B6-33F0AA44E76B");
  public static final UUID ITEM_VIRTUAL_DISK_SIZE = UUID.fromString("2FA54224-CD1B-4876-B211-5DBED83BF4B8");
  public static final UUID ITEM_PAGE83 = UUID.fromString("BECA12AB-B2E6-4523-93EF-C309E000C746");
  public static final UUID ITEM_LOGICAL_SECTOR_SIZE = UUID.fromString("8141BF1D-A96F-4709-BA47-F233A8FAAB5F");
  public static final UUID ITEM_PHYSICAL_SECTOR_SIZE = UUID.fromString("CDA348C7-445D-4471-9CC9-E9885251C556");
  public static final UUID ITEM_PARENT_LOCATOR = UUID.fromString("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C");

  /** Metadata entry flag bits. */
  public static final int META_IS_USER = 1;
  public static final int META_IS_VIRTUAL_DISK = 2;
  public static final int META_IS_REQUIRED = 4;

  /** File Parameters flag bits. */
  public static final int PARAM_LEAVE_BLOCK_ALLOCATED = 1;
  public static final int PARAM_HAS_PARENT = 2;

  /** Payload BAT entry states (bits 0-2). */
  public static final int PAYLOAD_NOT_PRESENT = 0;
  public static final int PAYLOAD_UNDEFINED = 1;
  public static final int PAYLOAD_ZERO = 2;
  public static final int PAYLOAD_UNMAPPED = 3;
  public static final int PAYLOAD_FULLY_PRESENT = 6;
  public static final int PAYLOAD_PARTIALLY_PRESENT = 7;

  public static final long MIN_BLOCK_SIZE = MIB;
  public static final long MAX_BLOCK_SIZE = 256 * MIB;
  /** Largest virtual disk the format allows: 64 TiB. */
  public static final long MAX_VIRTUAL_SIZE = 64L << 40;

  /** The file offset stored in a BAT entry (bits 20-63, in MiB, shifted back to bytes). */
  public static long batOffset(long entry) {
    return entry & ~0xFFFFFL;
  }

  /** The state stored in a BAT entry (bits 0-2). */
  public static int batState(long entry) {
    return (int) (entry & 7);
  }

  /** Payload blocks per sector-bitmap block: {@code 2^23 * logicalSectorSize / blockSize}. */
  public static long chunkRatio(long logicalSectorSize, long blockSize) {
    return (1L << 23) * logicalSectorSize / blockSize;
  }

  /** Number of payload blocks covering {@code virtualSize}. */
  public static long dataBlocks(long virtualSize, long blockSize) {
    return (virtualSize + blockSize - 1) / blockSize;
  }

  /** BAT entries of a fixed or dynamic disk: payload entries plus interleaved sector-bitmap entries. */
  public static long batEntries(long virtualSize, long blockSize, long logicalSectorSize) {
    long blocks = dataBlocks(virtualSize, blockSize);
    return blocks == 0 ? 0 : blocks + (blocks - 1) / chunkRatio(logicalSectorSize, blockSize);
  }

  /** BAT index of payload block {@code i}. */
  public static long batIndex(long block, long chunkRatio) {
    return block + block / chunkRatio;
  }

  /** CRC-32C of {@code buf}'s whole content with the 4 bytes at {@code checksumOffset} taken as zero. */
  public static int crc32c(ByteBuffer buf, int checksumOffset) {
    ByteBuffer b = buf.duplicate().clear();
    CRC32C crc = new CRC32C();
    crc.update(b.duplicate().limit(checksumOffset));
    crc.update(new byte[4]);
    crc.update(b.position(checksumOffset + 4));
    return (int) crc.getValue();
  }

  /** Reads a GUID in Microsoft order (Data1-3 little-endian, Data4 as bytes) at absolute {@code pos}. */
  public static UUID getGuid(ByteBuffer buf, int pos) {
    ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long d1 = le.getInt(pos) & 0xFFFFFFFFL;
    long d2 = le.getShort(pos + 4) & 0xFFFFL;
    long d3 = le.getShort(pos + 6) & 0xFFFFL;
    long msb = (d1 << 32) | (d2 << 16) | d3;
    long lsb = buf.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(pos + 8);
    return new UUID(msb, lsb);
  }

  /** Writes {@code guid} in Microsoft order at absolute {@code pos}. */
  public static void putGuid(ByteBuffer buf, int pos, UUID guid) {
    long msb = guid.getMostSignificantBits();
    ByteBuffer le = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    le.putInt(pos, (int) (msb >>> 32));
    le.putShort(pos + 4, (short) (msb >>> 16));
    le.putShort(pos + 6, (short) msb);
    buf.duplicate().order(ByteOrder.BIG_ENDIAN).putLong(pos + 8, guid.getLeastSignificantBits());
  }

  /** True when the GUID is all zeros. */
  public static boolean isNil(UUID guid) {
    return guid.getMostSignificantBits() == 0 && guid.getLeastSignificantBits() == 0;
  }
}
