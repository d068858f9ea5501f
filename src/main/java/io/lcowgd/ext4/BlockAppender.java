package io.lcowgd.ext4;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Appends whole blocks sequentially to an image file through one large buffer, so that many small files become a
 * few large writes; big regions from a file channel are copied in the kernel ({@link FileChannel#transferTo}).
 * Every run it appends starts on a block boundary and the tail of its last block is left zero.
 */
final class BlockAppender {
  private final FileChannel out;
  private final int blockSize;
  private final byte[] buf;
  private final ByteBuffer bufView;
  private final byte[] zeros;
  /** Bytes buffered, starting at block {@link #bufStartBlock}. */
  private int fill;
  private long bufStartBlock;

  BlockAppender(FileChannel out, int blockSize, long firstBlock, int bufferSize) {
    this.out = out;
    this.blockSize = blockSize;
    this.buf = new byte[bufferSize];
    this.bufView = ByteBuffer.wrap(buf);
    this.zeros = new byte[blockSize];
    this.bufStartBlock = firstBlock;
  }

  /** The block the next append starts at. */
  long nextBlock() {
    return bufStartBlock + (fill + blockSize - 1) / blockSize;
  }

  /** Appends exactly {@code size} bytes read from {@code in}; returns the first block. */
  long append(InputStream in, long size) throws IOException {
    long first = alignFill();
    long left = size;
    while (left > 0) {
      if (fill == buf.length) {
        flush();
      }
      int n = in.read(buf, fill, (int) Math.min(left, buf.length - fill));
      if (n < 0) {
        throw new EOFException("data ended after " + (size - left) + " of " + size + " bytes");
      }
      fill += n;
      left -= n;
    }
    alignFill();
    return first;
  }

  /** Appends {@code len} bytes of {@code b}; returns the first block. */
  long append(byte[] b, int off, int len) throws IOException {
    long first = alignFill();
    while (len > 0) {
      if (fill == buf.length) {
        flush();
      }
      int n = Math.min(len, buf.length - fill);
      System.arraycopy(b, off, buf, fill, n);
      fill += n;
      off += n;
      len -= n;
    }
    alignFill();
    return first;
  }

  /** Appends {@code size} bytes of {@code src} from {@code srcPos} with kernel-side copies; returns the first block. */
  long transfer(FileChannel src, long srcPos, long size) throws IOException {
    long first = alignFill();
    flush();
    long pos = first * blockSize;
    long done = 0;
    while (done < size) {
      out.position(pos + done);
      long n = src.transferTo(srcPos + done, size - done, out);
      if (n <= 0) {
        if (srcPos + done >= src.size()) {
          throw new EOFException("data ended after " + done + " of " + size + " bytes");
        }
        continue;
      }
      done += n;
    }
    long blocks = (size + blockSize - 1) / blockSize;
    bufStartBlock = first + blocks;
    return first;
  }

  /** Pads the buffered bytes to a block boundary with zeros and returns the next block. */
  private long alignFill() {
    int rem = fill % blockSize;
    if (rem != 0) {
      int pad = blockSize - rem;
      java.util.Arrays.fill(buf, fill, fill + pad, (byte) 0);
      fill += pad;
    }
    return bufStartBlock + fill / blockSize;
  }

  /**
   * Writes out the buffered blocks. All-zero blocks are not written: the image file is new, so skipping them leaves
   * holes that read as zeros (same filesystem content, less disk used for zero runs).
   */
  void flush() throws IOException {
    alignFill();
    int blocks = fill / blockSize;
    int i = 0;
    while (i < blocks) {
      while (i < blocks && isZero(i)) {
        i++;
      }
      int runStart = i;
      while (i < blocks && !isZero(i)) {
        i++;
      }
      if (i > runStart) {
        long pos = (bufStartBlock + runStart) * blockSize;
        bufView.clear().position(runStart * blockSize).limit(i * blockSize);
        while (bufView.hasRemaining()) {
          pos += out.write(bufView, pos);
        }
      }
    }
    bufStartBlock += blocks;
    fill = 0;
  }

  private boolean isZero(int block) {
    int off = block * blockSize;
    return java.util.Arrays.mismatch(buf, off, off + blockSize, zeros, 0, blockSize) < 0;
  }
}
