package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian field access relative to the start of one on-disk structure (package-private helper). */
final class Le {
  private Le() {}

  /** A little-endian view of {@code size} bytes at {@code buf}'s position; advances {@code buf} past them. */
  static ByteBuffer take(ByteBuffer buf, int size) {
    if (buf.remaining() < size) {
      throw new IllegalArgumentException("need " + size + " bytes, buffer has " + buf.remaining());
    }
    ByteBuffer s = buf.slice(buf.position(), size).order(ByteOrder.LITTLE_ENDIAN);
    buf.position(buf.position() + size);
    return s;
  }

  static int u8(ByteBuffer b, int off) {
    return b.get(off) & 0xFF;
  }

  static int u16(ByteBuffer b, int off) {
    return b.getShort(off) & 0xFFFF;
  }

  static long u32(ByteBuffer b, int off) {
    return b.getInt(off) & 0xFFFF_FFFFL;
  }

  static long u64(ByteBuffer b, int off) {
    return b.getLong(off);
  }

  static byte[] bytes(ByteBuffer b, int off, int len) {
    byte[] a = new byte[len];
    b.get(off, a);
    return a;
  }

  static void put8(ByteBuffer b, int off, int v) {
    b.put(off, (byte) v);
  }

  static void put16(ByteBuffer b, int off, int v) {
    b.putShort(off, (short) v);
  }

  static void put32(ByteBuffer b, int off, long v) {
    b.putInt(off, (int) v);
  }

  static void put64(ByteBuffer b, int off, long v) {
    b.putLong(off, v);
  }

  static void putBytes(ByteBuffer b, int off, byte[] a, int len) {
    if (a.length != len) {
      throw new IllegalArgumentException("field needs " + len + " bytes, got " + a.length);
    }
    b.put(off, a);
  }
}
