#!/usr/bin/env python3
"""Locates the virtual disk of a VHDX file for test oracles (independent of the project's own VHDX code).

usage: vhdx_payload.py FILE.vhdx RAW_OUT
  Prints "LOOP <offset> <length>" when the payload is one run of fully present blocks, laid out in order (a loop device
  with --offset/--sizelimit then shows the virtual disk); otherwise writes the virtual disk to RAW_OUT as a sparse raw
  file (copying only the data extents of present blocks) and prints "RAW <RAW_OUT>". Fails on differencing disks and
  partially present blocks. Follows the VHDX 1.0 specification: region table at 192 KiB, BAT and metadata regions,
  File Parameters / Virtual Disk Size / Logical Sector Size items, chunk ratio interleaving of sector-bitmap entries.
"""
import os
import struct
import sys
import uuid

BAT = uuid.UUID("2DC27766-F623-4200-9D64-115E9BFD4A08").bytes_le
METADATA = uuid.UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le
FILE_PARAMETERS = uuid.UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B").bytes_le
VIRTUAL_DISK_SIZE = uuid.UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8").bytes_le
LOGICAL_SECTOR_SIZE = uuid.UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F").bytes_le
MiB = 1 << 20
FULLY_PRESENT, PARTIALLY_PRESENT = 6, 7


def die(msg):
    sys.exit("vhdx_payload: %s: %s" % (sys.argv[1], msg))


def main():
    path, raw_out = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        if f.read(8) != b"vhdxfile":
            die("no 'vhdxfile' signature")
        f.seek(192 * 1024)
        sig, _csum, count, _ = struct.unpack("<4sIII", f.read(16))
        if sig != b"regi":
            die("no region table at 192 KiB")
        regions = {}
        for _ in range(count):
            guid, off, length, _req = struct.unpack("<16sQII", f.read(32))
            regions[guid] = (off, length)
        if BAT not in regions or METADATA not in regions:
            die("region table lacks the BAT or metadata region")
        moff, _ = regions[METADATA]
        f.seek(moff)
        sig, _r, count = struct.unpack("<8sHH", f.read(12))
        if sig != b"metadata":
            die("no metadata table")
        f.seek(moff + 32)
        items = {}
        for _ in range(count):
            guid, off, length, _flags, _r2 = struct.unpack("<16sIIII", f.read(32))
            items[guid] = (moff + off, length)

        def item(guid, fmt):
            off, _ = items[guid]
            f.seek(off)
            return struct.unpack(fmt, f.read(struct.calcsize(fmt)))

        block_size, flags = item(FILE_PARAMETERS, "<II")
        if flags & 2:
            die("differencing disk (HasParent)")
        (vsize,) = item(VIRTUAL_DISK_SIZE, "<Q")
        (sector,) = item(LOGICAL_SECTOR_SIZE, "<I")
        chunk_ratio = (1 << 23) * sector // block_size
        nblocks = (vsize + block_size - 1) // block_size
        boff, blen = regions[BAT]
        f.seek(boff)
        bat = f.read(blen)
        entries = []
        for i in range(nblocks):
            idx = i + i // chunk_ratio
            (e,) = struct.unpack_from("<Q", bat, idx * 8)
            state, off = e & 7, (e >> 20) * MiB
            if state == PARTIALLY_PRESENT:
                die("block %d partially present" % i)
            entries.append(off if state == FULLY_PRESENT else None)

    if entries and all(e is not None for e in entries) and all(e == entries[0] + i * block_size for i, e in enumerate(entries)):
        print("LOOP %d %d" % (entries[0], vsize))
        return
    src = os.open(path, os.O_RDONLY)
    dst = os.open(raw_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.ftruncate(dst, vsize)
    for i, off in enumerate(entries):
        if off is None:
            continue
        n = min(block_size, vsize - i * block_size)
        pos, end = off, off + n
        while pos < end:
            try:
                data_at = os.lseek(src, pos, os.SEEK_DATA)
            except OSError:
                break
            if data_at >= end:
                break
            hole_at = min(os.lseek(src, data_at, os.SEEK_HOLE), end)
            os.lseek(src, data_at, os.SEEK_SET)
            left, at = hole_at - data_at, i * block_size + (data_at - off)
            while left > 0:
                buf = os.read(src, min(left, 4 * MiB))
                if not buf:
                    die("short read at %d" % data_at)
                os.pwrite(dst, buf, at)
                at += len(buf)
                left -= len(buf)
            pos = hole_at
    os.close(dst)
    os.close(src)
    print("RAW %s" % raw_out)


main()
