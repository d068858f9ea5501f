#!/usr/bin/env bash
# Benchmark of the VHD -> tar export (Diff of a read-only layer):
#   ours     scripts/lcow vhd2tar, several exports in one warm JVM (first run discarded), tar piped to cat >/dev/null
#   tar -c   losetup + mount -o ro,noload, then GNU tar -c piped to cat >/dev/null on the warm mount (one warm-up run)
#   debugfs  debugfs -R 'rdump / DIR' (no mount; it can only write a directory tree, written to the scratch fs)
# on the three corpora of the writer's benchmark (debootstrap minbase rootfs, 100k small files, two 1 GiB random
# files), each converted to a layer.vhd with our converter. Everything lives on one loop-mounted, journaled ext4
# scratch filesystem. Throughput = corpus tar bytes / wall time (MB = 10^6 bytes); the best of RUNS runs is kept.
#
# Usage: scripts/bench-vhd2tar.sh [WORK_DIR]      (as root; WORK_DIR defaults to bench-out/ in the repository)
# Env:   RUNS (default 3), SCRATCH_SIZE (default 16G).
# Corpora: scripts/bench-corpus.sh WORK_DIR/corpus is used when present (every *.tar there is a corpus: debian,
# small, random); otherwise this script makes rootfs.tar (debootstrap --variant=minbase bookworm), small-files.tar and
# big-files.tar itself. Corpus tars are kept in WORK_DIR/corpus and reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mkdir -p "${1:-$here/bench-out}" && cd "${1:-$here/bench-out}" && pwd)"
runs="${RUNS:-3}"
lcow="$here/scripts/lcow"

if [[ "$(id -u)" != 0 ]]; then
  echo "bench-vhd2tar: run as root (loop devices and mounts)" >&2
  exit 2
fi

scratch_img="$work/scratch.img"
scratch="$work/scratch"
mnt="$work/mnt"
loops=()
cleanup() {
  mountpoint -q "$mnt" 2>/dev/null && umount "$mnt" || true
  for l in "${loops[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  mountpoint -q "$scratch" 2>/dev/null && umount "$scratch" || true
  rm -f "$scratch_img"
}
trap cleanup EXIT

echo "== scratch: journaled ext4 in $scratch_img (${SCRATCH_SIZE:-16G}, sparse), mounted on $scratch"
mkdir -p "$scratch" "$mnt"
rm -f "$scratch_img"
truncate -s "${SCRATCH_SIZE:-16G}" "$scratch_img"
mkfs.ext4 -q -F "$scratch_img"
mount -o loop "$scratch_img" "$scratch"

# The corpus tars are only the converter's input and are kept (and reused) in WORK_DIR/corpus; the images that are
# exported, and debugfs's output, live on the scratch filesystem.
corpus="$work/corpus"
mkdir -p "$corpus"
if [[ -x "$here/scripts/bench-corpus.sh" ]]; then
  echo "== corpora from scripts/bench-corpus.sh"
  "$here/scripts/bench-corpus.sh" "$corpus" >&2
else
  echo "== corpora (scripts/bench-corpus.sh not present: generating them here)"
  if [[ ! -f "$corpus/rootfs.tar" ]]; then
    if [[ ! -x "$work/rootfs-dir/bin/sh" ]]; then
      debootstrap --variant=minbase bookworm "$work/rootfs-dir" http://deb.debian.org/debian >&2
    fi
    tar -C "$work/rootfs-dir" --numeric-owner --xattrs --xattrs-include='*' -cf "$corpus/rootfs.tar" .
  fi
  [[ -f "$corpus/small-files.tar" && -f "$corpus/big-files.tar" ]] || python3 - "$corpus" <<'EOF'
import io, os, random, sys, tarfile
out = sys.argv[1]
r = random.Random(1)
with tarfile.open(os.path.join(out, 'small-files.tar'), 'w', format=tarfile.PAX_FORMAT) as t:
    for d in range(100):
        ti = tarfile.TarInfo('d%03d' % d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 1600000000
        t.addfile(ti)
        for f in range(1000):
            n = r.randint(0, 2048)
            ti = tarfile.TarInfo('d%03d/file-%04d' % (d, f)); ti.size = n; ti.mode = 0o644; ti.mtime = 1600000000
            t.addfile(ti, io.BytesIO(r.randbytes(n)))
class Rand:
    def __init__(self, n): self.left = n
    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)
with tarfile.open(os.path.join(out, 'big-files.tar'), 'w', format=tarfile.PAX_FORMAT) as t:
    for i in range(2):
        ti = tarfile.TarInfo('random-%d.bin' % i); ti.size = 1 << 30; ti.mode = 0o644; ti.mtime = 1600000000
        t.addfile(ti, Rand(1 << 30))
EOF
fi

now() { date +%s.%N; }
best() { sort -g | head -1; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / t / 1e6 }'; }

results=()
for tarfile in "$corpus"/*.tar; do
  name="$(basename "$tarfile" .tar)"
  bytes="$(stat -c %s "$tarfile")"
  vhd="$scratch/$name.vhd"
  echo "== $name: $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') tar -> $vhd"
  "$lcow" tar2vhd "$tarfile" "$vhd" >&2
  payload=$(( $(stat -c %s "$vhd") - 512 ))

  # ours: one JVM, RUNS+1 exports through a pipe, the first (cold JIT) discarded
  "$lcow" vhd2tar --repeat $((runs + 1)) "$vhd" 2>"$work/ours.err" | cat >/dev/null
  t_ours="$(tail -n "$runs" "$work/ours.err" | sed -n 's/^run [0-9]*: \([0-9.]*\) s.*/\1/p' | best)"

  # loop mount + tar -c: mounted once, one untimed warm-up run, then RUNS timed runs on the warm mount
  l="$(losetup -f --show -r --sizelimit "$payload" "$vhd")"; loops+=("$l")
  mount -o ro,noload "$l" "$mnt"
  tar -C "$mnt" --numeric-owner --xattrs --xattrs-include='*' -cf - . | cat >/dev/null
  times=()
  for _ in $(seq "$runs"); do
    s="$(now)"
    tar -C "$mnt" --numeric-owner --xattrs --xattrs-include='*' -cf - . | cat >/dev/null
    e="$(now)"
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')")
  done
  umount "$mnt"; losetup -d "$l"
  t_tar="$(printf '%s\n' "${times[@]}" | best)"

  # debugfs rdump into the scratch fs (one untimed warm-up run)
  rm -rf "$scratch/rdump"; mkdir "$scratch/rdump"
  debugfs -R "rdump / $scratch/rdump" "$vhd" >/dev/null 2>&1
  times=()
  for _ in $(seq "$runs"); do
    rm -rf "$scratch/rdump"; mkdir "$scratch/rdump"; sync
    s="$(now)"
    debugfs -R "rdump / $scratch/rdump" "$vhd" >/dev/null 2>&1
    e="$(now)"
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')")
  done
  rm -rf "$scratch/rdump"
  t_dbg="$(printf '%s\n' "${times[@]}" | best)"

  m_ours="$(mbps "$bytes" "$t_ours")"; m_tar="$(mbps "$bytes" "$t_tar")"; m_dbg="$(mbps "$bytes" "$t_dbg")"
  r_tar="$(awk -v a="$m_ours" -v b="$m_tar" 'BEGIN { printf "%.2f", a / b }')"
  r_dbg="$(awk -v a="$m_ours" -v b="$m_dbg" 'BEGIN { printf "%.2f", a / b }')"
  printf '   ours %s MB/s (%.2f s) | mount+tar -c %s MB/s (%.2f s) | debugfs rdump %s MB/s (%.2f s) | x%s, x%s\n' \
    "$m_ours" "$t_ours" "$m_tar" "$t_tar" "$m_dbg" "$t_dbg" "$r_tar" "$r_dbg"
  results+=("| $name | $(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }') | $m_ours | $m_tar | $m_dbg | ${r_tar}x | ${r_dbg}x |")
  rm -f "$vhd"
done

echo
echo "| corpus | tar MB | ours MB/s | mount + tar -c MB/s | debugfs rdump MB/s | vs tar -c | vs debugfs |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
