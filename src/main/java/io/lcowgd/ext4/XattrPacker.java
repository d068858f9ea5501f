package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Xattr;
import io.lcowgd.ext4.format.XattrBlockHeader;
import io.lcowgd.ext4.format.XattrEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Places a file's extended attributes: in the inode's spare area first (in {@link Xattr#BLOCK_ORDER}, as many as
 * fit), the rest in one external block; more than that is an error. POSIX ACLs arrive in the user-space xattr
 * format and are converted to ext4's on-disk ACL format.
 */
final class XattrPacker {
  private XattrPacker() {}

  /** One attribute ready to store. */
  record Item(int index, byte[] name, byte[] value, int hash) {
    int entrySize() {
      return Xattr.entrySize(name.length);
    }

    int valueSize() {
      return Xattr.valueSize(value.length);
    }
  }

  /** The placement: attributes in the inode and in the block (either may be empty). */
  record Placement(List<Item> inInode, List<Item> inBlock) {}

  static Placement place(String path, Map<String, byte[]> xattrs, int inodeArea, int blockSize) throws IOException {
    List<Item> items = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
      Xattr.Name n = Xattr.split(e.getKey());
      if (n.suffix().length > 255) {
        throw new IOException(path + ": xattr name too long: " + e.getKey());
      }
      byte[] value = e.getValue();
      if (n.index() == 2 || n.index() == 3) {
        value = aclToDisk(path, e.getKey(), value);
      }
      items.add(new Item(n.index(), n.suffix(), value, Xattr.entryHash(n.suffix(), value)));
    }
    items.sort((a, b) -> compare(a, b));
    List<Item> inInode = new ArrayList<>();
    List<Item> inBlock = new ArrayList<>();
    // In-inode area: 4-byte magic, entries, 4-byte end marker, values from the end.
    int used = Xattr.IBODY_HEADER_SIZE + 4;
    for (Item it : items) {
      int need = it.entrySize() + it.valueSize();
      if (inBlock.isEmpty() && used + need <= inodeArea) {
        inInode.add(it);
        used += need;
      } else {
        inBlock.add(it);
      }
    }
    int blockUsed = XattrBlockHeader.SIZE + 4;
    for (Item it : inBlock) {
      blockUsed += it.entrySize() + it.valueSize();
    }
    if (blockUsed > blockSize) {
      throw new IOException(path + ": extended attributes need " + blockUsed
          + " bytes, more than fit in the inode and one " + blockSize + "-byte block");
    }
    return new Placement(inInode, inBlock);
  }

  private static int compare(Item a, Item b) {
    if (a.index != b.index) {
      return Integer.compare(a.index, b.index);
    }
    if (a.name.length != b.name.length) {
      return Integer.compare(a.name.length, b.name.length);
    }
    return java.util.Arrays.compareUnsigned(a.name, b.name);
  }

  /** Writes the in-inode xattr area ({@code area} spans exactly the spare bytes of the inode). */
  static void writeInodeArea(ByteBuffer area, List<Item> items) {
    int size = area.remaining();
    ByteBuffer a = area.slice();
    Xattr.encodeIbodyHeader(a);
    int valueEnd = size;
    for (Item it : items) {
      int offs = 0;
      if (it.value.length > 0) {
        valueEnd -= it.valueSize();
        a.put(valueEnd, it.value);
        offs = valueEnd - Xattr.IBODY_HEADER_SIZE;
      }
      new XattrEntry(it.index, offs, 0, it.value.length, it.hash & 0xFFFF_FFFFL, it.name).encode(a);
    }
  }

  /** Writes an xattr block holding {@code items} (already in block order) into the zeroed {@code block}. */
  static void writeBlock(ByteBuffer block, List<Item> items, int blockSize) {
    ByteBuffer b = block.slice();
    List<XattrEntry> entries = new ArrayList<>();
    int valueEnd = blockSize;
    for (Item it : items) {
      int offs = 0;
      if (it.value.length > 0) {
        valueEnd -= it.valueSize();
        b.put(valueEnd, it.value);
        offs = valueEnd;
      }
      entries.add(new XattrEntry(it.index, offs, 0, it.value.length, it.hash & 0xFFFF_FFFFL, it.name));
    }
    new XattrBlockHeader(Xattr.MAGIC, 1, 1, Xattr.blockHash(entries) & 0xFFFF_FFFFL, 0).encode(b);
    for (XattrEntry e : entries) {
      e.encode(b);
    }
  }

  /**
   * Converts a POSIX ACL from the xattr format ({@code posix_acl_xattr}: version 2, 8-byte entries) to ext4's disk
   * format (version 1; 4-byte entries for USER_OBJ, GROUP_OBJ, MASK, OTHER; 8-byte ones for USER, GROUP).
   */
  static byte[] aclToDisk(String path, String name, byte[] v) throws IOException {
    if (v.length < 4 || (v.length - 4) % 8 != 0) {
      throw new IOException(path + ": malformed POSIX ACL in " + name);
    }
    ByteBuffer in = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
    if (in.getInt() != 2) {
      throw new IOException(path + ": unsupported POSIX ACL version in " + name);
    }
    ByteBuffer out = ByteBuffer.allocate(v.length).order(ByteOrder.LITTLE_ENDIAN);
    out.putInt(1);
    while (in.hasRemaining()) {
      int tag = in.getShort() & 0xFFFF;
      int perm = in.getShort() & 0xFFFF;
      int id = in.getInt();
      out.putShort((short) tag).putShort((short) perm);
      switch (tag) {
        case 0x01, 0x04, 0x10, 0x20 -> { }
        case 0x02, 0x08 -> out.putInt(id);
        default -> throw new IOException(path + ": unknown POSIX ACL tag " + tag + " in " + name);
      }
    }
    return java.util.Arrays.copyOf(out.array(), out.position());
  }
}
