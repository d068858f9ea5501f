package io.lcowgd.disk;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** A {@link DiskReader} over a byte range {@code [offset, offset+length)} of a file. */
public final class FileRangeDisk implements DiskReader {
  private final FileChannel channel;
  private final long offset;
  private final long length;

  private FileRangeDisk(FileChannel channel, long offset, long length) {
    this.channel = channel;
    this.offset = offset;
    this.length = length;
  }

  /** Opens {@code path} read-only and exposes {@code length} bytes starting at {@code offset}. */
  public static FileRangeDisk open(Path path, long offset, long length) throws IOException {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative range " + offset + "+" + length + " of " + path);
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      long fileSize = ch.size();
      if (offset > fileSize || length > fileSize - offset) {
        throw new EOFException(
            path + ": range " + offset + "+" + length + " lies beyond the end of the file (" + fileSize + " bytes)");
      }
      return new FileRangeDisk(ch, offset, length);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Opens the whole file as a disk. */
  public static FileRangeDisk open(Path path) throws IOException {
    long size = java.nio.file.Files.size(path);
    return open(path, 0, size);
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public void readFully(long pos, ByteBuffer dst) throws IOException {
    int want = dst.remaining();
    if (pos < 0 || pos > length || want > length - pos) {
      throw new EOFException("read of " + want + " bytes at " + pos + " past the end of a " + length + "-byte disk");
    }
    long at = offset + pos;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, at);
      if (n < 0) {
        throw new EOFException("file truncated: read at " + at + " hit end of file");
      }
      at += n;
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
