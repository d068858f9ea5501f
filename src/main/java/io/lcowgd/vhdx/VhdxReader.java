package io.lcowgd.vhdx;

import static io.lcowgd.vhdx.VhdxFormat.MIB;

import io.lcowgd.disk.DiskReader;
import io.lcowgd.disk.PayloadRange;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads the virtual disk of a fixed or dynamic VHDX file, mapping virtual offsets to file offsets through the BAT.
 * Opening validates every structure it relies on and refuses, with a {@link VhdxFormatException} naming the file and
 * the structure, anything it cannot read safely: a bad file identifier, two invalid headers, a log that needs replay
 * (non-zero LogGuid), two corrupt region tables, unknown required regions or metadata items, differencing disks,
 * sizes outside the format's limits, and BAT entries that point outside the file or into the file's own metadata.
 * Unallocated blocks (NOT_PRESENT, UNDEFINED, ZERO, UNMAPPED) read as zeros. Thread-safe for concurrent reads.
 */
public final class VhdxReader implements DiskReader {
  /** Largest BAT this reader holds in memory (8 Mi payload blocks: 8 TiB at 1 MiB blocks). */
  static final long MAX_PAYLOAD_BLOCKS = 8L << 20;
  /** Value of {@link #blockOffsets} for a block that reads as zeros. */
  private static final long ZERO_BLOCK = -1;

  private final Path path;
  private final FileChannel channel;
  private final long virtualSize;
  private final int blockSize;
  private final int logicalSectorSize;
  private final int physicalSectorSize;
  private final boolean leaveBlockAllocated;
  private final UUID page83;
  private final long page83FileOffset;
  private final long currentSequence;
  private final long logOffset;
  private final int logLength;
  /** File offset of each payload block, or {@link #ZERO_BLOCK}. */
  private final long[] blockOffsets;

  private VhdxReader(Path path, FileChannel channel, Parsed p) {
    this.path = path;
    this.channel = channel;
    this.virtualSize = p.virtualSize;
    this.blockSize = p.blockSize;
    this.logicalSectorSize = p.logicalSectorSize;
    this.physicalSectorSize = p.physicalSectorSize;
    this.leaveBlockAllocated = p.leaveBlockAllocated;
    this.page83 = p.page83;
    this.page83FileOffset = p.page83FileOffset;
    this.currentSequence = p.sequence;
    this.logOffset = p.logOffset;
    this.logLength = p.logLength;
    this.blockOffsets = p.blockOffsets;
  }

  /** Opens and validates {@code path}; the caller must close the reader. */
  public static VhdxReader open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return new VhdxReader(path, ch, new Parser(path, ch).parse());
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** True when {@code path} starts with the VHDX file identifier {@code "vhdxfile"} (nothing else is checked). */
  public static boolean isVhdx(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(8);
      while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
        // keep reading
      }
      return !b.hasRemaining() && isVhdx(b.array());
    }
  }

  /** True when {@code head} (the first bytes of a file) starts with the VHDX file identifier. */
  public static boolean isVhdx(byte[] head) {
    byte[] sig = VhdxFormat.FILE_SIGNATURE.getBytes(StandardCharsets.US_ASCII);
    return head.length >= sig.length && Arrays.equals(head, 0, sig.length, sig, 0, sig.length);
  }

  @Override
  public long size() {
    return virtualSize;
  }

  public int blockSize() {
    return blockSize;
  }

  public int logicalSectorSize() {
    return logicalSectorSize;
  }

  public int physicalSectorSize() {
    return physicalSectorSize;
  }

  /** True for a fixed VHDX (File Parameters LeaveBlockAllocated). */
  public boolean leaveBlockAllocated() {
    return leaveBlockAllocated;
  }

  /** The SCSI page-83 identifier of the virtual disk. */
  public UUID page83() {
    return page83;
  }

  long page83FileOffset() {
    return page83FileOffset;
  }

  long currentSequence() {
    return currentSequence;
  }

  long logOffset() {
    return logOffset;
  }

  int logLength() {
    return logLength;
  }

  /**
   * The contiguous payload range, when every payload block is FULLY_PRESENT and block {@code i} lies at {@code
   * base + i * blockSize}; otherwise a {@link VhdxFormatException} saying which block breaks the layout.
   */
  public PayloadRange payloadRange() throws VhdxFormatException {
    long base = blockOffsets.length == 0 ? 0 : blockOffsets[0];
    for (int i = 0; i < blockOffsets.length; i++) {
      if (blockOffsets[i] == ZERO_BLOCK) {
        throw new VhdxFormatException(path + ": payload is not contiguous: block " + i + " is not allocated");
      }
      if (blockOffsets[i] != base + (long) i * blockSize) {
        throw new VhdxFormatException(path + ": payload is not contiguous: block " + i + " is at file offset "
            + blockOffsets[i] + ", expected " + (base + (long) i * blockSize));
      }
    }
    return new PayloadRange(base, virtualSize);
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    int want = dst.remaining();
    if (offset < 0 || offset > virtualSize || want > virtualSize - offset) {
      throw new EOFException(path + ": read of " + want + " bytes at " + offset + " past the end of a "
          + virtualSize + "-byte virtual disk");
    }
    long v = offset;
    while (dst.hasRemaining()) {
      int block = (int) (v / blockSize);
      int within = (int) (v % blockSize);
      int n = (int) Math.min(dst.remaining(), (long) blockSize - within);
      ByteBuffer part = dst.slice(dst.position(), n);
      long at = blockOffsets[block];
      if (at == ZERO_BLOCK) {
        while (part.hasRemaining()) {
          part.put((byte) 0);
        }
      } else {
        long pos = at + within;
        while (part.hasRemaining()) {
          int r = channel.read(part, pos);
          if (r < 0) {
            throw new EOFException(path + ": file truncated: payload block " + block + " ends past end of file");
          }
          pos += r;
        }
      }
      dst.position(dst.position() + n);
      v += n;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /** Values gathered while parsing. */
  private static final class Parsed {
    long sequence;
    long logOffset;
    int logLength;
    long virtualSize;
    int blockSize;
    int logicalSectorSize;
    int physicalSectorSize;
    boolean leaveBlockAllocated;
    UUID page83;
    long page83FileOffset;
    long[] blockOffsets;
  }

  private record Region(String name, long offset, long length) {}

  /** One-shot parser and validator (MS-VHDX read recipe, formats.md §4.8). */
  private static final class Parser {
    private final Path path;
    private final FileChannel ch;
    private final Parsed p = new Parsed();
    private long fileSize;

    Parser(Path path, FileChannel ch) {
      this.path = path;
      this.ch = ch;
    }

    Parsed parse() throws IOException {
      fileSize = ch.size();
      if (fileSize < VhdxFormat.HEADER_SECTION_SIZE) {
        if (fileSize >= 8 && isVhdx(read(0, 8).array())) {
          throw bad("file is " + fileSize + " bytes, shorter than the 1 MiB header section");
        }
        throw bad("not a VHDX file: bad file identifier");
      }
      if (!isVhdx(read(0, 8).array())) {
        throw bad("not a VHDX file: bad file identifier (expected \"vhdxfile\")");
      }
      parseHeaders();
      List<Region> regions = new ArrayList<>();
      regions.add(new Region("header section", 0, VhdxFormat.HEADER_SECTION_SIZE));
      if (p.logLength > 0) {
        regions.add(new Region("log", p.logOffset, p.logLength));
      }
      Map<UUID, long[]> table = parseRegionTable();
      long[] bat = table.get(VhdxFormat.REGION_BAT);
      long[] meta = table.get(VhdxFormat.REGION_METADATA);
      if (bat == null) {
        throw bad("region table has no BAT region");
      }
      if (meta == null) {
        throw bad("region table has no metadata region");
      }
      regions.add(new Region("BAT region", bat[0], bat[1]));
      regions.add(new Region("metadata region", meta[0], meta[1]));
      for (Region r : regions) {
        if (r.offset > fileSize || r.length > fileSize - r.offset) {
          throw bad(r.name + " at " + r.offset + "+" + r.length + " lies beyond the end of the file (" + fileSize
              + " bytes)");
        }
      }
      checkNoOverlap(regions);
      parseMetadata(meta[0], meta[1]);
      parseBat(bat[0], bat[1], regions);
      return p;
    }

    private void parseHeaders() throws IOException {
      ByteBuffer h1 = read(VhdxFormat.HEADER1_OFFSET, VhdxFormat.HEADER_SIZE);
      ByteBuffer h2 = read(VhdxFormat.HEADER2_OFFSET, VhdxFormat.HEADER_SIZE);
      boolean v1 = validHeader(h1);
      boolean v2 = validHeader(h2);
      if (!v1 && !v2) {
        throw bad("both headers are invalid (bad signature or CRC-32C)");
      }
      ByteBuffer h;
      if (v1 && v2) {
        long s1 = h1.getLong(8);
        long s2 = h2.getLong(8);
        if (s1 == s2 && !h1.equals(h2)) {
          // identical headers (Disk2VHD writes them) are fine; different ones with one sequence number are not
          throw bad("the two headers differ but have the same sequence number " + Long.toUnsignedString(s1));
        }
        h = Long.compareUnsigned(s1, s2) > 0 ? h1 : h2;
      } else {
        h = v1 ? h1 : h2;
      }
      p.sequence = h.getLong(8);
      if (!VhdxFormat.isNil(VhdxFormat.getGuid(h, 48))) {
        throw bad("the log must be replayed (LogGuid " + VhdxFormat.getGuid(h, 48)
            + " is set); open the file once with Hyper-V or qemu-img to replay it");
      }
      int logVersion = h.getShort(64) & 0xFFFF;
      int version = h.getShort(66) & 0xFFFF;
      if (version != 1 || logVersion != 0) {
        throw bad("unsupported header version " + version + " / log version " + logVersion);
      }
      p.logLength = h.getInt(68);
      p.logOffset = h.getLong(72);
      if (p.logLength < 0 || p.logLength % MIB != 0 || p.logOffset % MIB != 0
          || (p.logLength > 0 && p.logOffset < MIB)) {
        throw bad("bad log location " + p.logOffset + "+" + Integer.toUnsignedString(p.logLength));
      }
    }

    private static boolean validHeader(ByteBuffer h) {
      return h.getInt(0) == VhdxFormat.HEADER_SIGNATURE && h.getInt(4) == VhdxFormat.crc32c(h, 4);
    }

    /** Region GUID -> {offset, length}; table 2 is used when table 1 is corrupt. */
    private Map<UUID, long[]> parseRegionTable() throws IOException {
      ByteBuffer t = read(VhdxFormat.REGION_TABLE1_OFFSET, VhdxFormat.REGION_TABLE_SIZE);
      if (!validRegionTable(t)) {
        t = read(VhdxFormat.REGION_TABLE2_OFFSET, VhdxFormat.REGION_TABLE_SIZE);
        if (!validRegionTable(t)) {
          throw bad("both region tables are invalid (bad signature, CRC-32C or entry count)");
        }
      }
      int count = t.getInt(8);
      Map<UUID, long[]> out = new HashMap<>();
      for (int i = 0; i < count; i++) {
        int at = 16 + i * 32;
        UUID guid = VhdxFormat.getGuid(t, at);
        long offset = t.getLong(at + 16);
        long length = t.getInt(at + 24) & 0xFFFFFFFFL;
        boolean required = (t.getInt(at + 28) & 1) != 0;
        if (!guid.equals(VhdxFormat.REGION_BAT) && !guid.equals(VhdxFormat.REGION_METADATA)) {
          if (required) {
            throw bad("unknown required region " + guid);
          }
          continue;
        }
        if (offset < MIB || offset % MIB != 0 || length == 0 || length % MIB != 0) {
          throw bad("region " + guid + " has a bad location " + offset + "+" + length);
        }
        if (out.put(guid, new long[] {offset, length}) != null) {
          throw bad("region " + guid + " appears twice in the region table");
        }
      }
      return out;
    }

    private static boolean validRegionTable(ByteBuffer t) {
      int count = t.getInt(8);
      return t.getInt(0) == VhdxFormat.REGION_SIGNATURE && t.getInt(4) == VhdxFormat.crc32c(t, 4)
          && count >= 0 && count <= VhdxFormat.REGION_TABLE_MAX_ENTRIES;
    }

    private void parseMetadata(long regionOffset, long regionLength) throws IOException {
      ByteBuffer t = read(regionOffset, VhdxFormat.METADATA_TABLE_SIZE);
      if (t.getLong(0) != VhdxFormat.METADATA_SIGNATURE) {
        throw bad("metadata table has a bad signature");
      }
      int count = t.getShort(10) & 0xFFFF;
      if (count > VhdxFormat.METADATA_MAX_ENTRIES) {
        throw bad("metadata table has " + count + " entries (at most 2047)");
      }
      Map<UUID, ByteBuffer> items = new HashMap<>();
      Map<UUID, Long> itemOffsets = new HashMap<>();
      for (int i = 0; i < count; i++) {
        int at = 32 + i * 32;
        UUID id = VhdxFormat.getGuid(t, at);
        long offset = t.getInt(at + 16) & 0xFFFFFFFFL;
        long length = t.getInt(at + 20) & 0xFFFFFFFFL;
        int flags = t.getInt(at + 24);
        boolean user = (flags & VhdxFormat.META_IS_USER) != 0;
        boolean known = !user && (id.equals(VhdxFormat.ITEM_FILE_PARAMETERS)
            || id.equals(VhdxFormat.ITEM_VIRTUAL_DISK_SIZE) || id.equals(VhdxFormat.ITEM_PAGE83)
            || id.equals(VhdxFormat.ITEM_LOGICAL_SECTOR_SIZE) || id.equals(VhdxFormat.ITEM_PHYSICAL_SECTOR_SIZE));
        if (!user && id.equals(VhdxFormat.ITEM_PARENT_LOCATOR)) {
          throw bad("differencing disks are not supported (metadata has a parent locator)");
        }
        if (!known) {
          if ((flags & VhdxFormat.META_IS_REQUIRED) != 0) {
            throw bad("unknown required metadata item " + id);
          }
          continue;
        }
        if (length > VhdxFormat.METADATA_MAX_ITEM_LENGTH || (length > 0 && offset < VhdxFormat.METADATA_TABLE_SIZE)
            || offset + length > regionLength) {
          throw bad("metadata item " + id + " has a bad location " + offset + "+" + length);
        }
        if (items.containsKey(id)) {
          throw bad("metadata item " + id + " appears twice");
        }
        items.put(id, read(regionOffset + offset, (int) length));
        itemOffsets.put(id, regionOffset + offset);
      }
      ByteBuffer params = item(items, VhdxFormat.ITEM_FILE_PARAMETERS, "file parameters", 8);
      p.blockSize = params.getInt(0);
      int pflags = params.getInt(4);
      if ((pflags & VhdxFormat.PARAM_HAS_PARENT) != 0) {
        throw bad("differencing disks are not supported (file parameters HasParent is set)");
      }
      p.leaveBlockAllocated = (pflags & VhdxFormat.PARAM_LEAVE_BLOCK_ALLOCATED) != 0;
      if (Integer.bitCount(p.blockSize) != 1 || p.blockSize < VhdxFormat.MIN_BLOCK_SIZE
          || p.blockSize > VhdxFormat.MAX_BLOCK_SIZE) {
        throw bad("bad block size " + Integer.toUnsignedString(p.blockSize));
      }
      p.logicalSectorSize = item(items, VhdxFormat.ITEM_LOGICAL_SECTOR_SIZE, "logical sector size", 4).getInt(0);
      p.physicalSectorSize = item(items, VhdxFormat.ITEM_PHYSICAL_SECTOR_SIZE, "physical sector size", 4).getInt(0);
      if (p.logicalSectorSize != 512 && p.logicalSectorSize != 4096) {
        throw bad("bad logical sector size " + Integer.toUnsignedString(p.logicalSectorSize));
      }
      if (p.physicalSectorSize != 512 && p.physicalSectorSize != 4096) {
        throw bad("bad physical sector size " + Integer.toUnsignedString(p.physicalSectorSize));
      }
      p.virtualSize = item(items, VhdxFormat.ITEM_VIRTUAL_DISK_SIZE, "virtual disk size", 8).getLong(0);
      if (p.virtualSize <= 0 || p.virtualSize > VhdxFormat.MAX_VIRTUAL_SIZE
          || p.virtualSize % p.logicalSectorSize != 0) {
        throw bad("bad virtual disk size " + Long.toUnsignedString(p.virtualSize)
            + " (must be a positive multiple of the logical sector size, at most 64 TiB)");
      }
      p.page83 = VhdxFormat.getGuid(item(items, VhdxFormat.ITEM_PAGE83, "page 83 data", 16), 0);
      p.page83FileOffset = itemOffsets.get(VhdxFormat.ITEM_PAGE83);
    }

    private ByteBuffer item(Map<UUID, ByteBuffer> items, UUID id, String name, int minLength)
        throws VhdxFormatException {
      ByteBuffer b = items.get(id);
      if (b == null) {
        throw bad("required metadata item " + name + " (" + id + ") is missing");
      }
      if (b.capacity() < minLength) {
        throw bad("metadata item " + name + " is " + b.capacity() + " bytes, needs " + minLength);
      }
      return b;
    }

    private void parseBat(long batOffset, long batLength, List<Region> regions) throws IOException {
      long chunkRatio = VhdxFormat.chunkRatio(p.logicalSectorSize, p.blockSize);
      long blocks = VhdxFormat.dataBlocks(p.virtualSize, p.blockSize);
      if (blocks > MAX_PAYLOAD_BLOCKS) {
        throw bad(blocks + " payload blocks exceed this reader's limit of " + MAX_PAYLOAD_BLOCKS);
      }
      long entries = VhdxFormat.batEntries(p.virtualSize, p.blockSize, p.logicalSectorSize);
      if (entries * 8 > batLength) {
        throw bad("BAT region (" + batLength + " bytes) is too small for " + entries + " entries");
      }
      long[] offsets = new long[(int) blocks];
      long[] sorted = new long[(int) blocks];
      int allocated = 0;
      int chunkBytes = (int) Math.min(entries * 8, MIB);
      ByteBuffer buf = null;
      long bufStart = -1;
      for (long i = 0; i < blocks; i++) {
        long idx = VhdxFormat.batIndex(i, chunkRatio);
        long byteAt = idx * 8;
        if (buf == null || byteAt < bufStart || byteAt + 8 > bufStart + buf.capacity()) {
          bufStart = byteAt;
          buf = read(batOffset + byteAt, (int) Math.min(chunkBytes, entries * 8 - byteAt));
        }
        long e = buf.getLong((int) (byteAt - bufStart));
        int state = VhdxFormat.batState(e);
        switch (state) {
          case VhdxFormat.PAYLOAD_NOT_PRESENT, VhdxFormat.PAYLOAD_UNDEFINED, VhdxFormat.PAYLOAD_ZERO,
              VhdxFormat.PAYLOAD_UNMAPPED -> offsets[(int) i] = ZERO_BLOCK;
          case VhdxFormat.PAYLOAD_FULLY_PRESENT -> {
            long at = VhdxFormat.batOffset(e);
            long need = Math.min(p.blockSize, p.virtualSize - i * p.blockSize);
            if (at < MIB || at > fileSize || need > fileSize - at) {
              throw bad("BAT entry for block " + i + " points at " + at + ", outside the file (" + fileSize
                  + " bytes)");
            }
            for (Region r : regions) {
              if (at < r.offset + r.length && r.offset < at + p.blockSize) {
                throw bad("BAT entry for block " + i + " at " + at + " overlaps the " + r.name);
              }
            }
            offsets[(int) i] = at;
            sorted[allocated++] = at;
          }
          case VhdxFormat.PAYLOAD_PARTIALLY_PRESENT -> throw bad(
              "block " + i + " is PARTIALLY_PRESENT (differencing disks are not supported)");
          default -> throw bad("BAT entry for block " + i + " has invalid state " + state);
        }
      }
      Arrays.sort(sorted, 0, allocated);
      for (int k = 1; k < allocated; k++) {
        if (sorted[k] - sorted[k - 1] < p.blockSize) {
          throw bad("two BAT entries overlap at file offset " + sorted[k]);
        }
      }
      p.blockOffsets = offsets;
    }

    private void checkNoOverlap(List<Region> regions) throws VhdxFormatException {
      for (int i = 0; i < regions.size(); i++) {
        for (int j = i + 1; j < regions.size(); j++) {
          Region a = regions.get(i);
          Region b = regions.get(j);
          if (a.offset < b.offset + b.length && b.offset < a.offset + a.length) {
            throw bad("the " + a.name + " overlaps the " + b.name);
          }
        }
      }
    }

    private ByteBuffer read(long pos, int len) throws IOException {
      if (pos < 0 || pos > fileSize || len > fileSize - pos) {
        throw bad("structure at " + pos + "+" + len + " lies beyond the end of the file (" + fileSize + " bytes)");
      }
      ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining()) {
        int n = ch.read(b, pos + b.position());
        if (n < 0) {
          throw new EOFException(path + ": unexpected end of file at " + (pos + b.position()));
        }
      }
      return b.clear();
    }

    private VhdxFormatException bad(String what) {
      return new VhdxFormatException(path + ": " + what);
    }
  }
}
