package io.lcowgd.vhdx;

import static io.lcowgd.vhdx.VhdxFormat.MIB;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Creates a new VHDX whose payload is one contiguous, in-order, sparse run of blocks: every payload BAT entry is
 * FULLY_PRESENT and block {@code i} lives at {@code payloadOffset + i * blockSize}; the file-parameters flag
 * LeaveBlockAllocated is set, so the file is a <em>fixed</em> VHDX to every VHDX implementation. Only the metadata
 * structures are written; the payload is a hole that reads as zeros, so a 20 GiB disk takes a few KiB on disk and
 * can be formatted in place (e.g. {@code mke2fs -E offset=...}) or attached with a loop device at a fixed offset.
 *
 * <p>File layout (qemu's creation layout, MS-VHDX 2.2): header section (1 MiB), log (1 MiB of zeros, never used),
 * BAT at 2 MiB, metadata region (1 MiB) after the BAT, payload after the metadata.
 */
public final class VhdxWriter {
  private VhdxWriter() {}

  /** Default payload block size: 32 MiB, the default of Hyper-V and qemu; keeps the BAT of a 20 GiB disk at 5 KiB. */
  public static final int DEFAULT_BLOCK_SIZE = (int) (32 * MIB);
  public static final int LOGICAL_SECTOR_SIZE = 512;
  public static final int PHYSICAL_SECTOR_SIZE = 4096;
  static final String CREATOR = "lcow-graphdriver";
  static final long LOG_OFFSET = MIB;
  static final int LOG_LENGTH = (int) MIB;
  static final long BAT_OFFSET = 2 * MIB;

  /**
   * Creates {@code path} (which must not exist) as a sparse fixed VHDX of {@code virtualSize} bytes with the given
   * block size (a power of two from 1 MiB to 256 MiB), flushes it, and returns where its payload lies.
   */
  public static PayloadRange createContiguous(Path path, long virtualSize, int blockSize) throws IOException {
    if (virtualSize <= 0 || virtualSize > VhdxFormat.MAX_VIRTUAL_SIZE || virtualSize % LOGICAL_SECTOR_SIZE != 0) {
      throw new IllegalArgumentException(
          "virtual size " + virtualSize + " must be a positive multiple of 512 bytes up to 64 TiB");
    }
    if (Integer.bitCount(blockSize) != 1 || blockSize < VhdxFormat.MIN_BLOCK_SIZE
        || blockSize > VhdxFormat.MAX_BLOCK_SIZE) {
      throw new IllegalArgumentException("block size " + blockSize + " must be a power of two in [1 MiB, 256 MiB]");
    }
    long chunkRatio = VhdxFormat.chunkRatio(LOGICAL_SECTOR_SIZE, blockSize);
    long blocks = VhdxFormat.dataBlocks(virtualSize, blockSize);
    long entries = VhdxFormat.batEntries(virtualSize, blockSize, LOGICAL_SECTOR_SIZE);
    if (entries * 8 > Integer.MAX_VALUE - MIB) {
      throw new IllegalArgumentException("BAT of " + entries + " entries is too large; use a larger block size");
    }
    long batLength = roundUp(entries * 8, MIB);
    long metadataOffset = BAT_OFFSET + batLength;
    long payloadOffset = metadataOffset + MIB;
    long fileEnd = payloadOffset + blocks * blockSize;

    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    boolean ok = false; // from here on, a failure removes the file we created
    try {
      try (ch) {
        writeAt(ch, 0, identifier());
        writeAt(ch, VhdxFormat.HEADER1_OFFSET,
            header(0, UUID.randomUUID(), UUID.randomUUID(), LOG_OFFSET, LOG_LENGTH));
        writeAt(ch, VhdxFormat.HEADER2_OFFSET,
            header(1, UUID.randomUUID(), UUID.randomUUID(), LOG_OFFSET, LOG_LENGTH));
        ByteBuffer regions = regionTable(metadataOffset, batLength);
        writeAt(ch, VhdxFormat.REGION_TABLE1_OFFSET, regions.duplicate().limit(16 + 2 * 32));
        writeAt(ch, VhdxFormat.REGION_TABLE2_OFFSET, regions.duplicate().limit(16 + 2 * 32));

        ByteBuffer bat = ByteBuffer.allocate((int) (entries * 8)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < blocks; i++) {
          long entry = (payloadOffset + i * blockSize) | VhdxFormat.PAYLOAD_FULLY_PRESENT;
          bat.putLong((int) (VhdxFormat.batIndex(i, chunkRatio) * 8), entry);
        }
        writeAt(ch, BAT_OFFSET, bat);
        writeMetadata(ch, metadataOffset, virtualSize, blockSize);
      }
      try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
        raf.setLength(fileEnd); // sparse extension: the file spans every payload block, which read as zeros
        raf.getFD().sync();
      }
      ok = true;
    } finally {
      if (!ok) {
        Files.deleteIfExists(path);
      }
    }
    return new PayloadRange(payloadOffset, virtualSize);
  }

  /** Builds one 4 KiB header with its CRC-32C. */
  static ByteBuffer header(long sequence, UUID fileWrite, UUID dataWrite, long logOffset, int logLength) {
    ByteBuffer h = ByteBuffer.allocate(VhdxFormat.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0, VhdxFormat.HEADER_SIGNATURE);
    h.putLong(8, sequence);
    VhdxFormat.putGuid(h, 16, fileWrite);
    VhdxFormat.putGuid(h, 32, dataWrite);
    // LogGuid (48) stays zero: there is never a log to replay.
    h.putShort(64, (short) 0); // LogVersion
    h.putShort(66, (short) 1); // Version
    h.putInt(68, logLength);
    h.putLong(72, logOffset);
    h.putInt(4, VhdxFormat.crc32c(h, 4));
    return h;
  }

  private static ByteBuffer identifier() {
    byte[] creator = CREATOR.getBytes(StandardCharsets.UTF_16LE);
    ByteBuffer b = ByteBuffer.allocate(8 + creator.length);
    b.put(VhdxFormat.FILE_SIGNATURE.getBytes(StandardCharsets.US_ASCII)).put(creator);
    return b.flip();
  }

  private static ByteBuffer regionTable(long metadataOffset, long batLength) {
    ByteBuffer t = ByteBuffer.allocate(VhdxFormat.REGION_TABLE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    t.putInt(0, VhdxFormat.REGION_SIGNATURE);
    t.putInt(8, 2);
    regionEntry(t, 16, VhdxFormat.REGION_BAT, BAT_OFFSET, batLength);
    regionEntry(t, 48, VhdxFormat.REGION_METADATA, metadataOffset, MIB);
    t.putInt(4, VhdxFormat.crc32c(t, 4));
    return t;
  }

  private static void regionEntry(ByteBuffer t, int at, UUID guid, long offset, long length) {
    VhdxFormat.putGuid(t, at, guid);
    t.putLong(at + 16, offset);
    t.putInt(at + 24, (int) length);
    t.putInt(at + 28, 1); // Required
  }

  private static void writeMetadata(FileChannel ch, long regionOffset, long virtualSize, int blockSize)
      throws IOException {
    int req = VhdxFormat.META_IS_REQUIRED;
    int reqVd = VhdxFormat.META_IS_REQUIRED | VhdxFormat.META_IS_VIRTUAL_DISK;
    ByteBuffer items = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
    items.putInt(0, blockSize).putInt(4, VhdxFormat.PARAM_LEAVE_BLOCK_ALLOCATED); // File Parameters @0
    items.putLong(8, virtualSize); // Virtual Disk Size @8
    items.putInt(16, LOGICAL_SECTOR_SIZE); // @16
    items.putInt(20, PHYSICAL_SECTOR_SIZE); // @20
    VhdxFormat.putGuid(items, 24, UUID.randomUUID()); // Page 83 @24
    ByteBuffer table = ByteBuffer.allocate(32 + 5 * 32).order(ByteOrder.LITTLE_ENDIAN);
    table.putLong(0, VhdxFormat.METADATA_SIGNATURE);
    table.putShort(10, (short) 5);
    int base = VhdxFormat.METADATA_TABLE_SIZE;
    metadataEntry(table, 32, VhdxFormat.ITEM_FILE_PARAMETERS, base, 8, req);
    metadataEntry(table, 64, VhdxFormat.ITEM_VIRTUAL_DISK_SIZE, base + 8, 8, reqVd);
    metadataEntry(table, 96, VhdxFormat.ITEM_LOGICAL_SECTOR_SIZE, base + 16, 4, reqVd);
    metadataEntry(table, 128, VhdxFormat.ITEM_PHYSICAL_SECTOR_SIZE, base + 20, 4, reqVd);
    metadataEntry(table, 160, VhdxFormat.ITEM_PAGE83, base + 24, 16, reqVd);
    writeAt(ch, regionOffset, table);
    writeAt(ch, regionOffset + base, items);
  }

  private static void metadataEntry(ByteBuffer t, int at, UUID item, int offset, int length, int flags) {
    VhdxFormat.putGuid(t, at, item);
    t.putInt(at + 16, offset);
    t.putInt(at + 20, length);
    t.putInt(at + 24, flags);
  }

  static void writeAt(FileChannel ch, long pos, ByteBuffer src) throws IOException {
    ByteBuffer b = src.duplicate();
    if (b.position() == b.limit()) {
      b.rewind();
    }
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  private static long roundUp(long v, long unit) {
    return (v + unit - 1) / unit * unit;
  }
}
