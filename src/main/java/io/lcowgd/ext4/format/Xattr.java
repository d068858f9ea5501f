package io.lcowgd.ext4.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;

/**
 * Extended attribute storage constants, name prefixes and hashes shared by the in-inode area and the xattr block.
 *
 * <p>In-inode area (right after {@code 128 + i_extra_isize}): a 4-byte {@link #MAGIC}, then {@link XattrEntry}s
 * ending with a 4-byte zero; value offsets are relative to the first entry. Xattr block: a 32-byte
 * {@link XattrBlockHeader}, then entries sorted by {@link #BLOCK_ORDER}, ending with a 4-byte zero; value offsets
 * are relative to the block start. Values are padded to 4 bytes and usually packed from the end downwards.
 */
public final class Xattr {
  private Xattr() {}

  /** {@code EXT4_XATTR_MAGIC}, in both the block header and the in-inode header. */
  public static final int MAGIC = 0xEA020000;
  /** Size of the in-inode header (just the magic). */
  public static final int IBODY_HEADER_SIZE = 4;
  /** Alignment of entries and values. */
  public static final int PAD = 4;

  /** A name index and the prefix it stands for. */
  public record Prefix(int index, String prefix, boolean exact) {}

  /** {@code e_name_index} values: prefixes stripped from stored names (exact ones store an empty name). */
  public static final Prefix[] PREFIXES = {
    new Prefix(2, "system.posix_acl_access", true),
    new Prefix(3, "system.posix_acl_default", true),
    new Prefix(8, "system.richacl", true),
    new Prefix(1, "user.", false),
    new Prefix(4, "trusted.", false),
    new Prefix(6, "security.", false),
    new Prefix(7, "system.", false),
  };

  /** A full attribute name split into its name index and the stored suffix. */
  public record Name(int index, byte[] suffix) {}

  /**
   * Splits a full attribute name ({@code security.capability}) into name index 6 and suffix {@code capability}.
   * Names with no known prefix get index 0 and are stored whole.
   */
  public static Name split(String fullName) {
    for (Prefix p : PREFIXES) {
      if (p.exact() ? fullName.equals(p.prefix()) : fullName.startsWith(p.prefix())) {
        return new Name(p.index(), fullName.substring(p.prefix().length()).getBytes(StandardCharsets.UTF_8));
      }
    }
    return new Name(0, fullName.getBytes(StandardCharsets.UTF_8));
  }

  /** The full attribute name for a stored index and suffix, or {@code null} if the index is unknown. */
  public static String join(int index, byte[] suffix) {
    String s = new String(suffix, StandardCharsets.UTF_8);
    if (index == 0) {
      return s;
    }
    for (Prefix p : PREFIXES) {
      if (p.index() == index) {
        return p.prefix() + s;
      }
    }
    return null;
  }

  /** Bytes an entry with a {@code nameLen}-byte name occupies: 16 + name, padded to 4. */
  public static int entrySize(int nameLen) {
    return (XattrEntry.HEADER_SIZE + nameLen + PAD - 1) & ~(PAD - 1);
  }

  /** Bytes a value of {@code size} bytes occupies: padded to 4. */
  public static int valueSize(int size) {
    return (size + PAD - 1) & ~(PAD - 1);
  }

  /**
   * The entry hash ({@code ext4_xattr_hash_entry}): over the stored name bytes (unsigned)
   * {@code h = (h << 5) ^ (h >>> 27) ^ c}, then over the value as little-endian 32-bit words (zero padded)
   * {@code h = (h << 16) ^ (h >>> 16) ^ w}. Values held in an EA inode hash differently and are not covered.
   */
  public static int entryHash(byte[] name, byte[] value) {
    int h = 0;
    for (byte c : name) {
      h = (h << 5) ^ (h >>> 27) ^ (c & 0xFF);
    }
    for (int i = 0; i < value.length; i += 4) {
      int w = 0;
      for (int k = 0; k < 4 && i + k < value.length; k++) {
        w |= (value[i + k] & 0xFF) << (8 * k);
      }
      h = (h << 16) ^ (h >>> 16) ^ w;
    }
    return h;
  }

  /**
   * The block hash ({@code ext4_xattr_rehash}) over the entries' hashes in block order:
   * {@code h = (h << 16) ^ (h >>> 16) ^ e_hash}; 0 if any entry hash is 0.
   */
  public static int blockHash(Iterable<XattrEntry> entries) {
    int h = 0;
    for (XattrEntry e : entries) {
      if (e.hash() == 0) {
        return 0;
      }
      h = (h << 16) ^ (h >>> 16) ^ (int) e.hash();
    }
    return h;
  }

  /** Order of entries in an xattr block, which the kernel's sorted lookup relies on: index, name length, name. */
  public static final Comparator<XattrEntry> BLOCK_ORDER =
      Comparator.comparingInt(XattrEntry::nameIndex)
          .thenComparingInt(e -> e.name().length)
          .thenComparing(XattrEntry::name, java.util.Arrays::compareUnsigned);

  /** Writes the in-inode header (the magic) at {@code buf}'s position and advances. */
  public static void encodeIbodyHeader(ByteBuffer buf) {
    Le.put32(Le.take(buf, IBODY_HEADER_SIZE), 0, MAGIC & 0xFFFF_FFFFL);
  }

  /** Reads the in-inode header at {@code buf}'s position, advances, and returns true if it holds the magic. */
  public static boolean decodeIbodyHeader(ByteBuffer buf) {
    return (int) Le.u32(Le.take(buf, IBODY_HEADER_SIZE), 0) == MAGIC;
  }
}
