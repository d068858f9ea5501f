#!/usr/bin/env bash
# Times the same docker commands on dockerd's built-in overlay2 and on the lcow plugin, and prints the ratios.
#
#   scripts/bench-docker.sh [--runs N] [--only overlay2|plugin]
#
# Both dockerd data roots and the plugin root lie on one loop-mounted, journaled ext4 filesystem (a sparse image in the
# scratch directory), so both drivers write to the same kind of storage. Commands timed, per driver, on a fresh data root:
#   load    docker load -i <Debian bookworm minbase image, saved once and cached>
#   run     docker run --rm --network none IMG true, N times in a row (default 100)
#   commit  docker commit of a container that wrote 100 MB
#   save    docker save of the committed image (base + 100 MB layer)
# Before the timings each driver gets the same warm-up (a busybox import and run; the image tar read into the page
# cache), so the plugin's JIT warm-up and a cold page cache do not count against whichever driver runs first.
# The minbase image is made once (debootstrap --variant=minbase bookworm from apt's mirror, docker import, docker save)
# and cached in $LCOW_BENCH_CACHE (default /var/cache/lcow-bench). Run as root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../test/lib/common.sh
source "$here/test/lib/common.sh"

RUNS=100
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench-docker: unknown argument $1" >&2; exit 2 ;;
  esac
done

CACHE="${LCOW_BENCH_CACHE:-/var/cache/lcow-bench}"
ROOTFS="$CACHE/rootfs-bookworm-minbase"
IMAGE_TAR="$CACHE/debian-bookworm-minbase.tar"
IMAGE=debian-minbase:bookworm
FS_GB="${LCOW_BENCH_FS_GB:-20}"

e2e_init bench
MNT="$E2E_T/mnt"

now() { date +%s.%N; }
secs() { "$PY" -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------------------------------
step "journaled ext4 on a ${FS_GB} GB sparse loop image"
truncate -s "${FS_GB}G" "$E2E_T/fs.img"
mkfs.ext4 -q -F -O has_journal "$E2E_T/fs.img"
mkdir -p "$MNT"
mount -o loop "$E2E_T/fs.img" "$MNT"
info "$(findmnt -n -o SOURCE,FSTYPE,OPTIONS "$MNT")"

if [[ ! -s "$IMAGE_TAR" ]]; then
  step "make the Debian minbase image (once; cached in $CACHE)"
  mkdir -p "$CACHE"
  if [[ ! -x "$ROOTFS/bin/sh" ]]; then
    mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
    [[ -n "$mirror" ]] || mirror="$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
    rm -rf "$ROOTFS.tmp"
    debootstrap --variant=minbase bookworm "$ROOTFS.tmp" "${mirror:-http://deb.debian.org/debian}" > "$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed"; }
    mv "$ROOTFS.tmp" "$ROOTFS"
  fi
  dockerd_start "$MNT/prep" overlay2
  tar --numeric-owner -C "$ROOTFS" -c . | dk import - "$IMAGE" >/dev/null
  dk save -o "$IMAGE_TAR.tmp" "$IMAGE"
  mv "$IMAGE_TAR.tmp" "$IMAGE_TAR"
  dockerd_stop
  rm -rf "$MNT/prep"
fi
info "image tar $IMAGE_TAR ($(du -m "$IMAGE_TAR" | cut -f1) MB)"

declare -A T
bench() {
  local drv="$1" storage="$2" t0 i
  step "$drv: warm-up (not timed): import and run a busybox image, read the image tar into the page cache"
  dk import "$(busybox_tar)" bb:warmup >/dev/null
  dk run --rm --network none bb:warmup true
  dk rmi bb:warmup >/dev/null
  cat "$IMAGE_TAR" > /dev/null

  step "$drv: docker load"
  t0="$(now)"; dk load -i "$IMAGE_TAR" >/dev/null; T[$drv.load]="$(secs "$t0" "$(now)")"
  info "load ${T[$drv.load]} s"

  step "$drv: docker run --rm --network none $IMAGE true, $RUNS times"
  dk run --rm --network none "$IMAGE" true   # warm-up (not timed)
  t0="$(now)"
  for ((i = 0; i < RUNS; i++)); do dk run --rm --network none "$IMAGE" true; done
  T[$drv.run]="$(secs "$t0" "$(now)")"
  info "run x$RUNS ${T[$drv.run]} s"

  step "$drv: docker commit of a container that wrote 100 MB"
  dk run --network none --name writer "$IMAGE" sh -c 'head -c 100M /dev/urandom > /data.bin && sync'
  t0="$(now)"; dk commit writer bench:committed >/dev/null; T[$drv.commit]="$(secs "$t0" "$(now)")"
  info "commit ${T[$drv.commit]} s"

  step "$drv: docker save of the committed image"
  t0="$(now)"; dk save -o "$MNT/saved-$drv.tar" bench:committed; T[$drv.save]="$(secs "$t0" "$(now)")"
  info "save ${T[$drv.save]} s ($(du -m "$MNT/saved-$drv.tar" | cut -f1) MB)"
  rm -f "$MNT/saved-$drv.tar"

  dk rm writer >/dev/null
  dk rmi bench:committed "$IMAGE" >/dev/null
}

if [[ "$ONLY" != plugin ]]; then
  dockerd_start "$MNT/overlay2" overlay2
  bench overlay2 overlay2
  dockerd_stop
fi

if [[ "$ONLY" != overlay2 ]]; then
  step "start the plugin"
  lcow_build
  name="lcowbench$$"
  plugin_start "$name" "$MNT/plugin-root"
  dockerd_start "$MNT/lcow" "$name"
  bench plugin "$name"
  dockerd_stop
  plugin_stop
  check_no_leaks "$MNT"
fi

echo
printf '%-34s %12s %12s %8s\n' "command" "overlay2 (s)" "plugin (s)" "ratio"
for k in load run commit save; do
  case $k in
    load) label="docker load (minbase)" ;;
    run) label="docker run --rm true x$RUNS" ;;
    commit) label="docker commit (100 MB written)" ;;
    save) label="docker save (committed image)" ;;
  esac
  a="${T[overlay2.$k]:-}"; b="${T[plugin.$k]:-}"
  r="-"
  [[ -n "$a" && -n "$b" ]] && r="$("$PY" -c 'import sys; print("%.2f" % (float(sys.argv[2]) / float(sys.argv[1])))' "$a" "$b")"
  printf '%-34s %12s %12s %8s\n' "$label" "${a:--}" "${b:--}" "$r"
done
echo "(ratio = plugin / overlay2; $(nproc) CPUs, kernel $(uname -r), dockerd $(dockerd --version | awk '{print $3}' | tr -d ,))"
