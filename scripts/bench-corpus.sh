#!/usr/bin/env bash
# Generates the three tar -> VHD benchmark corpora into DIR (reused when already present):
#   DIR/debian.tar   a Debian bookworm minbase rootfs (debootstrap; mirror taken from apt's configuration)
#   DIR/small.tar    100k files of 1-4 KiB in nested directories (~330 MB of tar)
#   DIR/random.tar   two 1 GiB files of random bytes
# Usage: scripts/bench-corpus.sh DIR     (as root: debootstrap needs it)
set -euo pipefail
dir="${1:?usage: scripts/bench-corpus.sh DIR}"
mkdir -p "$dir"
cd "$dir"

mirror() {
  # First deb URI for bookworm from deb822 sources or a one-line sources.list.
  local m
  m=$(awk '/^URIs:/ {u=$2} /^Suites:/ && /bookworm( |$)/ && u {print u; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z "$m" ]]; then
    m=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

if [[ ! -s debian.tar ]]; then
  command -v debootstrap >/dev/null || { echo "bench-corpus: debootstrap is not installed" >&2; exit 1; }
  rm -rf debian.root debian.tar.tmp
  m=$(mirror)
  echo "bench-corpus: debootstrap --variant=minbase bookworm from $m" >&2
  debootstrap --variant=minbase bookworm debian.root "$m" >debootstrap.log 2>&1 \
    || { echo "bench-corpus: debootstrap failed, see $dir/debootstrap.log" >&2; exit 1; }
  tar --format=posix --xattrs --xattrs-include='*' --numeric-owner -cf debian.tar.tmp -C debian.root .
  mv debian.tar.tmp debian.tar
  rm -rf debian.root
fi

if [[ ! -s small.tar ]]; then
  rm -rf small.root small.tar.tmp
  mkdir small.root
  # 100k files of 1-4 KiB: 100 directories of 10 subdirectories of 100 files, deterministic content.
  python3 - small.root <<'PY' 2>/dev/null || {
import os, sys, random
root = sys.argv[1]
rnd = random.Random(42)
for a in range(100):
    for b in range(10):
        d = os.path.join(root, f"d{a:03d}", f"s{b}")
        os.makedirs(d, exist_ok=True)
        for c in range(100):
            with open(os.path.join(d, f"f{c:03d}.txt"), "wb") as f:
                f.write(rnd.randbytes(rnd.randint(1024, 4096)))
PY
    # Fallback without python: head from urandom.
    for a in $(seq -w 0 99); do for b in $(seq 0 9); do
      d="small.root/d$a/s$b"; mkdir -p "$d"
      for c in $(seq -w 0 99); do head -c $((1024 + RANDOM % 3073)) /dev/urandom >"$d/f$c.txt"; done
    done; done
  }
  # GNU format: no per-file PAX header (like most layer tars, whose mtimes are whole seconds).
  tar --format=gnu --numeric-owner -cf small.tar.tmp -C small.root .
  mv small.tar.tmp small.tar
  rm -rf small.root
fi

if [[ ! -s random.tar ]]; then
  rm -rf random.root random.tar.tmp
  mkdir random.root
  head -c $((1 << 30)) /dev/urandom >random.root/random1.bin
  head -c $((1 << 30)) /dev/urandom >random.root/random2.bin
  tar --format=gnu --numeric-owner -cf random.tar.tmp -C random.root .
  mv random.tar.tmp random.tar
  rm -rf random.root
fi
ls -l "$dir"/*.tar >&2
