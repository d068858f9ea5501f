#!/usr/bin/env python3
"""Sends a layer tar to a plugin's /GraphDriver.ApplyDiff over a unix socket the way dockerd 20.10 does: one
flushed HTTP chunk (one socket write) per tar header block and per 32 KiB slice of file data.

Usage: bench-applydiff-body.py SOCKET LAYER.tar [RUNS [MB_PER_S]]   (prints wall seconds and client CPU per run;
MB_PER_S paces the sender by busy-waiting, as dockerd spends CPU between its writes; 0 or none: unpaced).
The layer id is "bench": against a real `lcow serve`, create it first (POST /GraphDriver.Create {"ID":"bench"}) and
remove it between runs; the test-scope server io.lcowgd.protocol.ChunkedUploadBench takes any id.
"""
import socket, sys, time, os

def pieces(data):
    """Yields the tar in dockerd's tar-split pieces: 512-byte headers, file data in <= 32 KiB slices + padding."""
    off, n = 0, len(data)
    while off + 512 <= n:
        hdr = data[off:off + 512]
        yield hdr
        off += 512
        if hdr == b"\0" * 512:
            continue
        size_field = hdr[124:136].rstrip(b"\0 ").strip()
        size = int(size_field, 8) if size_field else 0
        padded = (size + 511) // 512 * 512
        end = off + padded
        while off < end:
            step = min(32768, end - off)
            yield data[off:off + step]
            off += step
    if off < n:
        yield data[off:]

def run(sock_path, chunks, rate):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    head = (b"POST /GraphDriver.ApplyDiff?id=bench&parent= HTTP/1.1\r\nHost: \r\n"
            b"Transfer-Encoding: chunked\r\nContent-Type: application/x-tar\r\n\r\n")
    t0 = time.monotonic()
    s.sendall(head)
    sent, clock = 0, time.perf_counter
    start = clock()
    for c in chunks:
        s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
        sent += len(c)
        if rate:  # pace like dockerd, which spends CPU (sha256, tar-split) between writes: busy-wait
            due = start + sent / rate
            while clock() < due:
                pass
    s.sendall(b"0\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
        r = s.recv(65536)
        if not r:
            break
        reply += r
    wall = time.monotonic() - t0
    s.close()
    return wall, reply.split(b"\r\n", 1)[0].decode()

def main():
    sock_path, tar_path = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    rate = float(sys.argv[4]) * 1e6 if len(sys.argv) > 4 else 0  # MB/s, 0 = as fast as possible
    data = open(tar_path, "rb").read()
    chunks = list(pieces(data))
    print("chunks=%d bytes=%d" % (len(chunks), sum(map(len, chunks))))
    for i in range(runs):
        c0 = time.process_time()
        wall, status = run(sock_path, chunks, rate)
        print("run %d: %s wall=%.3f s client_cpu=%.3f s" % (i + 1, status, wall, time.process_time() - c0))

main()
