#!/usr/bin/env python3
"""Prints one line per entry of a tar file, in archive order, with every field a layer diff depends on.

Usage: tar_listing.py LAYER.tar

Line format (fields separated by " | "):
  name | type | mode | uid:gid | uname:gname | size | mtime | link target | xattrs | other PAX keys | sha256 (16 hex)
  mode: the raw header field in octal (type bits kept, as Go's and our tar writers set them)
  type: file, hardlink, symlink, chardev, blockdev, dir, fifo, or the raw type flag
  mtime: the PAX "mtime" record when there is one (keeps nanoseconds exactly), else the header's whole seconds
  xattrs: name=hexvalue,... from the SCHILY.xattr.* PAX records, sorted by name ("-" when none)
  other PAX keys: the names of the other PAX records (path, linkpath, size, atime, ...), sorted ("-" when none)
  sha256: of a regular file's contents, first 16 hex digits ("-" for other types)
Used by the end-to-end tests to show how two layer tars differ and to check what a commit layer holds; it reads the
tar with Python's tarfile, not with the project's code.
"""
import hashlib
import sys
import tarfile

TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.LNKTYPE: "hardlink", tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "chardev", tarfile.BLKTYPE: "blockdev", tarfile.DIRTYPE: "dir", tarfile.FIFOTYPE: "fifo",
}


def raw(value):
    """The bytes of a PAX value as tarfile decoded it (utf-8 with surrogateescape for non-UTF-8 bytes)."""
    return value.encode("utf-8", "surrogateescape")


def main(path):
    with tarfile.open(path, "r:", errors="surrogateescape") as tar:
        for m in tar:
            kind = TYPES.get(m.type, "type-" + m.type.decode("ascii", "replace"))
            mtime = m.pax_headers.get("mtime", str(int(m.mtime)))
            xattrs = sorted((k[len("SCHILY.xattr."):], raw(v).hex())
                            for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr."))
            digest = "-"
            if m.isreg():
                h = hashlib.sha256()
                f = tar.extractfile(m)
                for chunk in iter(lambda: f.read(1 << 16), b""):
                    h.update(chunk)
                digest = h.hexdigest()[:16]
            others = sorted(k for k in m.pax_headers if k != "mtime" and not k.startswith("SCHILY.xattr."))
            extra = ""
            if m.ischr() or m.isblk():
                extra = " %d,%d" % (m.devmajor, m.devminor)
            print(" | ".join([
                m.name, kind + extra, "%o" % m.mode, "%d:%d" % (m.uid, m.gid), "%s:%s" % (m.uname, m.gname),
                str(m.size), mtime, m.linkname or "-", ",".join("%s=%s" % kv for kv in xattrs) or "-",
                ",".join(others) or "-", digest,
            ]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
