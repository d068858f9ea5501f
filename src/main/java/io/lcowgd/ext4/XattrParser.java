package io.lcowgd.ext4;

import io.lcowgd.ext4.format.Xattr;
import io.lcowgd.ext4.format.XattrEntry;
import java.io.IOException;
import java.util.Map;

/**
 * Decodes the extended-attribute entries of one region (the in-inode area after {@code i_extra_isize}, or an xattr
 * block) into full names ({@code user.x}, {@code trusted.overlay.opaque}, ...) and values. POSIX ACLs stored in
 * ext4's compact format are converted to the {@code system.posix_acl_*} xattr format that {@code getxattr} returns.
 */
final class XattrParser {
  static final int MAGIC = Xattr.MAGIC;
  private static final String[] PREFIX = {null, "user.", "system.posix_acl_access", "system.posix_acl_default",
      "trusted.", null, "security.", "system.", "system.richacl"};
  private static final int MAX_VALUE = 1 << 20;

  private XattrParser() {}

  /**
   * Parses entries from {@code entriesOff} up to {@code end} of {@code b}; values are at {@code valueBase + offs}.
   */
  static void parse(Ext4Reader fs, byte[] b, int entriesOff, int valueBase, int end, Map<String, byte[]> out,
      String where) throws IOException {
    int p = entriesOff;
    while (true) {
      if (p + 4 > end) {
        throw new Ext4Exception(where + ": xattr entries run past the end of the area");
      }
      if (Ext4Inode.le32(b, p) == 0) {
        return;
      }
      if (p + XattrEntry.HEADER_SIZE > end) {
        throw new Ext4Exception(where + ": truncated xattr entry at offset " + p);
      }
      int nameLen = b[p + XattrEntry.E_NAME_LEN] & 0xFF;
      int index = b[p + XattrEntry.E_NAME_INDEX] & 0xFF;
      int valueOffs = Ext4Inode.le16(b, p + XattrEntry.E_VALUE_OFFS);
      long valueInum = Ext4Inode.le32(b, p + XattrEntry.E_VALUE_INUM) & 0xFFFFFFFFL;
      long valueSize = Ext4Inode.le32(b, p + XattrEntry.E_VALUE_SIZE) & 0xFFFFFFFFL;
      if (p + XattrEntry.E_NAME + nameLen > end) {
        throw new Ext4Exception(where + ": xattr name at offset " + p + " runs past the end of the area");
      }
      if (index >= PREFIX.length || PREFIX[index] == null) {
        throw new Ext4Exception(where + ": unknown xattr name index " + index);
      }
      String name =
          PREFIX[index] + new String(b, p + XattrEntry.E_NAME, nameLen, java.nio.charset.StandardCharsets.UTF_8);
      if (valueSize > MAX_VALUE) {
        throw new Ext4Exception(where + ": xattr " + name + " has absurd size " + valueSize);
      }
      byte[] value;
      if (valueInum != 0) {
        value = fs.readEaInodeValue(valueInum, (int) valueSize, where + ": xattr " + name);
      } else {
        long vs = (long) valueBase + valueOffs;
        if (vs < 0 || vs + valueSize > end) {
          throw new Ext4Exception(where + ": value of xattr " + name + " lies outside the area");
        }
        value = java.util.Arrays.copyOfRange(b, (int) vs, (int) (vs + valueSize));
      }
      if (index == 2 || index == 3) {
        value = aclToXattr(value, where + ": xattr " + name);
      }
      out.put(name, value);
      p += Xattr.entrySize(nameLen);
    }
  }

  /** Converts an ext4 on-disk ACL (version 1, short entries) to the VFS xattr format (version 2). */
  static byte[] aclToXattr(byte[] v, String where) throws Ext4Exception {
    if (v.length < 4 || Ext4Inode.le32(v, 0) != 1) {
      return v; // already in xattr format (as a tar-fed writer may store it)
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    putLe32(out, 2);
    int p = 4;
    while (p < v.length) {
      if (p + 4 > v.length) {
        throw new Ext4Exception(where + ": truncated ACL entry");
      }
      int tag = Ext4Inode.le16(v, p);
      int perm = Ext4Inode.le16(v, p + 2);
      long id = 0xFFFFFFFFL;
      if (tag == 0x02 || tag == 0x08) {
        if (p + 8 > v.length) {
          throw new Ext4Exception(where + ": truncated ACL entry");
        }
        id = Ext4Inode.le32(v, p + 4) & 0xFFFFFFFFL;
        p += 8;
      } else {
        p += 4;
      }
      out.write(tag & 0xFF);
      out.write(tag >>> 8);
      out.write(perm & 0xFF);
      out.write(perm >>> 8);
      putLe32(out, (int) id);
    }
    return out.toByteArray();
  }

  private static void putLe32(java.io.ByteArrayOutputStream o, int v) {
    o.write(v);
    o.write(v >>> 8);
    o.write(v >>> 16);
    o.write(v >>> 24);
  }
}
