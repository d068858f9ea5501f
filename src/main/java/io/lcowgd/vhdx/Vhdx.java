package io.lcowgd.vhdx;

import io.lcowgd.disk.PayloadRange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/** Whole-file operations on VHDX files made by {@link VhdxWriter}: payload location and identity renewal. */
public final class Vhdx {
  private Vhdx() {}

  /**
   * Validates {@code path} and returns its contiguous payload range (file offset and virtual size), for attaching
   * the virtual disk with a loop device at a fixed offset. Fails with a {@link VhdxFormatException} when the file is
   * not a readable VHDX or its payload blocks are not all allocated, contiguous and in order.
   */
  public static PayloadRange payloadRange(Path path) throws IOException {
    try (VhdxReader r = VhdxReader.open(path)) {
      return r.payloadRange();
    }
  }

  /**
   * Gives a copied VHDX its own identity: a fresh page-83 (SCSI) identifier and fresh FileWriteGuid/DataWriteGuid in
   * both headers, as if the file had been created anew. Used on clones of a template so two sandboxes never share a
   * disk identifier. Must only run on a file nobody else has open.
   */
  public static void renewIdentity(Path path) throws IOException {
    long page83At;
    long sequence;
    long logOffset;
    int logLength;
    try (VhdxReader r = VhdxReader.open(path)) {
      page83At = r.page83FileOffset();
      sequence = r.currentSequence();
      logOffset = r.logOffset();
      logLength = r.logLength();
    }
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
      ByteBuffer guid = ByteBuffer.allocate(16);
      VhdxFormat.putGuid(guid, 0, UUID.randomUUID());
      VhdxWriter.writeAt(ch, page83At, guid);
      // Both headers get newer sequence numbers; header 2 ends up current, header 1 stays a valid fallback.
      VhdxWriter.writeAt(ch, VhdxFormat.HEADER1_OFFSET,
          VhdxWriter.header(sequence + 1, UUID.randomUUID(), UUID.randomUUID(), logOffset, logLength));
      VhdxWriter.writeAt(ch, VhdxFormat.HEADER2_OFFSET,
          VhdxWriter.header(sequence + 2, UUID.randomUUID(), UUID.randomUUID(), logOffset, logLength));
    }
  }
}
