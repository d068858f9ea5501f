#!/usr/bin/env bash
# Times the same docker commands on dockerd's built-in overlay2 and on the lcow plugin, and prints the ratios.
#
#   scripts/bench-docker.sh [--runs N] [--only overlay2|plugin] [--profile] [--reloads N] [--buffered-io] [--sparse-image]
#
# --reloads N removes the loaded image and loads it again N more times per driver (alternating) and reports the mean
# of those later loads as "docker load again": the first load also pays the plugin JVM's JIT compilation. It also
# prints the median of the N per-pair ratios (each overlay2 reload and the plugin reload right after it), which holds
# up better than the ratio of the means when other jobs load the machine.
# Storage: by default the loop image is written full of zeros first (LCOW_BENCH_FS_GB, default 6 GB) and attached with
# direct I/O, so that the loop filesystem behaves like one on a real disk. Two options bring back what a plain
# `mount -o loop` of a sparse file does, which a real disk does not:
# --buffered-io: the loop device writes into the host's page cache, and every fsync on the loop filesystem makes the
#   host write all of the image file's dirty pages, however early the loop filesystem wrote them back (the plugin
#   fsyncs each layer; overlay2 never does);
# --sparse-image: the image is a sparse file, and the first write to each of its regions makes the host filesystem
#   allocate it.
# --profile also prints, for the timed load and commit, the CPU time (utime + stime from /proc/PID/task/*/stat) each
# daemon used, and the plugin JVM's per thread kind (C2/C1 compiler, GC, HTTP threads...).
#
# Both dockerd data roots and the plugin root lie on one loop-mounted, journaled ext4 filesystem (an image in the
# scratch directory), so both drivers write to the same storage. The two daemons run side by side and the timed
# commands alternate between them. Commands timed, per driver, on a fresh data root:
#   load    docker load -i <Debian bookworm minbase image, saved once and cached>
#   run     docker run --rm --network none IMG true, N times in a row (default 100)
#   commit  docker commit of a container that wrote 100 MB
#   save    docker save of the committed image (base + 100 MB layer)
# Before the timings each driver gets the same warm-up (a busybox import and run; before each load the image tar is read
# into the page cache and dirty pages are synced), so the plugin's JIT warm-up, a cold page cache and the other
# driver's unwritten data count against neither.
# The minbase image is made once (debootstrap --variant=minbase bookworm from apt's mirror, docker import, docker save)
# and cached in $LCOW_BENCH_CACHE (default /var/cache/lcow-bench). Run as root.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../test/lib/common.sh
source "$here/test/lib/common.sh"

RUNS=100
ONLY=""
PROFILE=0
DIRECT_IO=1
WRITTEN=1
RELOADS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --profile) PROFILE=1; shift ;;
    --buffered-io) DIRECT_IO=0; shift ;;
    --sparse-image) WRITTEN=0; shift ;;
    --reloads) RELOADS="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "bench-docker: unknown argument $1" >&2; exit 2 ;;
  esac
done

CACHE="${LCOW_BENCH_CACHE:-/var/cache/lcow-bench}"
ROOTFS="$CACHE/rootfs-bookworm-minbase"
IMAGE_TAR="$CACHE/debian-bookworm-minbase.tar"
IMAGE=debian-minbase:bookworm
FS_GB="${LCOW_BENCH_FS_GB:-6}"

e2e_init bench
MNT="$E2E_T/mnt"

now() { date +%s.%N; }
secs() { "$PY" -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

# ---------------------------------------------------------------------------------------------------------------------
if ((WRITTEN)); then
  step "journaled ext4 on a ${FS_GB} GB loop image written full of zeros"
  dd if=/dev/zero of="$E2E_T/fs.img" bs=4M count=$((FS_GB * 256)) conv=fsync status=none
  # nodiscard: mke2fs would punch the zeros out again; no lazy init: no inode-table zeroing in the background later
  mkfs.ext4 -q -F -O has_journal -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 "$E2E_T/fs.img"
else
  step "journaled ext4 on a ${FS_GB} GB sparse loop image"
  truncate -s "${FS_GB}G" "$E2E_T/fs.img"
  mkfs.ext4 -q -F -O has_journal "$E2E_T/fs.img"
fi
mkdir -p "$MNT"
if ((DIRECT_IO)); then
  mount "$(losetup --direct-io=on -f --show "$E2E_T/fs.img")" "$MNT"   # detached by e2e_cleanup (release_under)
else
  mount -o loop "$E2E_T/fs.img" "$MNT"
fi
info "$(findmnt -n -o SOURCE,FSTYPE,OPTIONS "$MNT") (direct I/O to the image: $(losetup -n -O DIO "$(findmnt -n -o SOURCE "$MNT")"))"

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

# Both daemons run at once and every timed command alternates between them (overlay2 first, then the plugin, or in
# batches of 10 for the runs), so that load from other jobs on a shared machine hits both alike.
declare -A T DIRS PIDS ONE
DRIVERS=()
[[ "$ONLY" == plugin ]] || DRIVERS+=(overlay2)
[[ "$ONLY" == overlay2 ]] || DRIVERS+=(plugin)

# use DRIVER: points dk (and dockerd_stop) at that driver's dockerd.
use() {
  DOCKERD_DIR="${DIRS[$1]}"
  DOCKERD_PID="${PIDS[$1]}"
}

# stop every dockerd this script started, then the usual clean-up.
bench_cleanup() {
  local rc=$? d
  set +e
  for d in "${DRIVERS[@]}"; do
    if [[ -n "${PIDS[$d]:-}" ]]; then use "$d"; dockerd_stop quiet; PIDS[$d]=""; fi
  done
  DOCKERD_PID=""
  (exit $rc)
  e2e_cleanup
}
trap bench_cleanup EXIT

# timed DRIVER KEY COMMAND...: runs COMMAND against DRIVER's dockerd and adds its wall time to T[DRIVER.KEY].
timed() {
  local drv="$1" key="$2" t0
  shift 2
  use "$drv"
  t0="$(now)"
  "$@"
  T[$drv.$key]="$("$PY" -c 'import sys; print("%.2f" % (float(sys.argv[1]) + float(sys.argv[3]) - float(sys.argv[2])))' \
    "${T[$drv.$key]:-0}" "$t0" "$(now)")"
}

# cpu_snap NAME=PID...: one line per thread, "NAME<TAB>THREAD-KIND<TAB>TICKS" (thread names without their numbers).
cpu_snap() {
  "$PY" - "$@" <<'PYEOF'
import os, re, sys
for arg in sys.argv[1:]:
    name, pid = arg.split("=")
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        continue
    for tid in tids:
        try:
            st = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        kind = re.sub(r"[-#]?[0-9]+$", "", comm).strip() or comm
        print(f"{name}\t{kind}\t{int(f[11]) + int(f[12])}")
PYEOF
}

# cpu_report LABEL BEFORE AFTER: prints the CPU seconds per process and per thread kind between two cpu_snap outputs.
cpu_report() {
  "$PY" - "$@" "$(getconf CLK_TCK)" <<'PYEOF'
import collections, sys
label, before, after, hz = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def load(text):
    d = collections.Counter()
    for line in text.splitlines():
        pid, kind, ticks = line.split("\t")
        d[(pid, kind)] += int(ticks)
    return d
a, b = load(before), load(after)
per_pid, per_kind = collections.Counter(), collections.Counter()
for k in set(a) | set(b):
    per_pid[k[0]] += b[k] - a[k]
    per_kind[k] += b[k] - a[k]
for pid, t in per_pid.items():
    kinds = sorted(((t2, k[1]) for k, t2 in per_kind.items() if k[0] == pid and t2 > 0), reverse=True)
    print(f"  {label}: {pid} {t / hz:.2f} s CPU (" + ", ".join(f"{k} {t2 / hz:.2f}" for t2, k in kinds) + ")")
PYEOF
}

# profiled DRIVER KEY COMMAND...: timed, and with --profile the CPU of that driver's dockerd (and the plugin JVM).
profiled() {
  local drv="$1" pids before
  if ((PROFILE == 0)); then timed "$@"; return; fi
  pids=("dockerd=${PIDS[$drv]}")
  [[ "$drv" != plugin || -z "$PLUGIN_PID" ]] || pids+=("plugin-jvm=$PLUGIN_PID")
  before="$(cpu_snap "${pids[@]}")"
  timed "$@"
  cpu_report "$drv $2" "$before" "$(cpu_snap "${pids[@]}")" >&2
}

runs() {
  local i
  for ((i = 0; i < $1; i++)); do dk run --rm --network none "$IMAGE" true; done
}

for drv in "${DRIVERS[@]}"; do
  DOCKERD_PID=""
  if [[ "$drv" == overlay2 ]]; then
    dockerd_start "$MNT/overlay2" overlay2
  else
    step "start the plugin"
    lcow_build
    name="lcowbench$$"
    plugin_start "$name" "$MNT/plugin-root"
    dockerd_start "$MNT/lcow" "$name"
  fi
  DIRS[$drv]="$DOCKERD_DIR"
  PIDS[$drv]="$DOCKERD_PID"
  step "$drv: warm-up (not timed): import and run a busybox image"
  dk import "$(busybox_tar)" bb:warmup >/dev/null
  dk run --rm --network none bb:warmup true
  dk rmi bb:warmup >/dev/null
done

# Before each timed load: the image tar in the page cache, and every dirty page on disk (sync), so that a load does not
# start with the other driver's unwritten files (overlay2 never syncs its layers; the plugin fsyncs its image, which
# on the loop filesystem commits whatever the journal holds).
ready_to_load() {
  cat "$IMAGE_TAR" > /dev/null
  sync
}

step "docker load of the minbase image"
for drv in "${DRIVERS[@]}"; do
  ready_to_load
  profiled "$drv" load dk load -i "$IMAGE_TAR" >/dev/null
  info "$drv: load ${T[$drv.load]} s"
done
for drv in "${DRIVERS[@]}"; do
  # The first run of each image (not timed), after both loads: a container's start and removal right before the
  # other driver's load would overlap its start.
  use "$drv"
  dk run --rm --network none "$IMAGE" true
done
for ((i = 0; i < RELOADS; i++)); do
  for drv in "${DRIVERS[@]}"; do
    use "$drv"
    dk rmi "$IMAGE" >/dev/null
    ready_to_load
    before="${T[$drv.reload]:-0}"
    profiled "$drv" reload dk load -i "$IMAGE_TAR" >/dev/null
    ONE[$drv]+=" $("$PY" -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$before" "${T[$drv.reload]}")"
    info "$drv: load again, total ${T[$drv.reload]} s"
  done
done
if ((RELOADS > 0)); then
  # Each reload pair ran back to back: the median of the pair ratios is robust to the machine's drift.
  if [[ -n "${ONE[overlay2]:-}" && -n "${ONE[plugin]:-}" ]]; then
    PAIRS="$("$PY" -c '
import statistics, sys
a, b = [float(x) for x in sys.argv[1].split()], [float(x) for x in sys.argv[2].split()]
r = sorted(y / x for x, y in zip(a, b))
print("%.2f (pairs: %s)" % (statistics.median(r), " ".join("%.2f" % x for x in r)))' "${ONE[overlay2]}" "${ONE[plugin]}")"
  fi
  for drv in "${DRIVERS[@]}"; do
    T[$drv.reload]="$("$PY" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / int(sys.argv[2])))' "${T[$drv.reload]}" "$RELOADS")"
  done
fi

step "docker run --rm --network none $IMAGE true, $RUNS times per driver (batches of 10, alternating)"
left=$RUNS
while ((left > 0)); do
  n=$((left < 10 ? left : 10))
  for drv in "${DRIVERS[@]}"; do timed "$drv" run runs "$n"; done
  left=$((left - n))
done
for drv in "${DRIVERS[@]}"; do info "$drv: run x$RUNS ${T[$drv.run]} s"; done

step "docker commit of a container that wrote 100 MB"
for drv in "${DRIVERS[@]}"; do
  use "$drv"
  dk run --network none --name writer "$IMAGE" sh -c 'head -c 100M /dev/urandom > /data.bin && sync'
done
for drv in "${DRIVERS[@]}"; do
  profiled "$drv" commit dk commit writer bench:committed >/dev/null
  info "$drv: commit ${T[$drv.commit]} s"
done

step "docker save of the committed image"
for drv in "${DRIVERS[@]}"; do
  timed "$drv" save dk save -o "$MNT/saved-$drv.tar" bench:committed
  info "$drv: save ${T[$drv.save]} s ($(du -m "$MNT/saved-$drv.tar" | cut -f1) MB)"
  rm -f "$MNT/saved-$drv.tar"
done

for drv in "${DRIVERS[@]}"; do
  use "$drv"
  dk rm writer >/dev/null
  dk rmi bench:committed "$IMAGE" >/dev/null
  dockerd_stop
  PIDS[$drv]=""
done
if [[ -n "$PLUGIN_PID" ]]; then
  plugin_stop
  check_no_leaks "$MNT"
fi

echo
printf '%-34s %12s %12s %8s\n' "command" "overlay2 (s)" "plugin (s)" "ratio"
for k in load reload run commit save; do
  case $k in
    load) label="docker load (minbase)" ;;
    reload) ((RELOADS > 0)) || continue; label="docker load again (mean of $RELOADS)" ;;
    run) label="docker run --rm true x$RUNS" ;;
    commit) label="docker commit (100 MB written)" ;;
    save) label="docker save (committed image)" ;;
  esac
  a="${T[overlay2.$k]:-}"; b="${T[plugin.$k]:-}"
  r="-"
  [[ -n "$a" && -n "$b" ]] && r="$("$PY" -c 'import sys; print("%.2f" % (float(sys.argv[2]) / float(sys.argv[1])))' "$a" "$b")"
  printf '%-34s %12s %12s %8s\n' "$label" "${a:--}" "${b:--}" "$r"
done
[[ -z "${PAIRS:-}" ]] || echo "docker load again, median of the per-pair ratios: $PAIRS"
echo "(ratio = plugin / overlay2; $(nproc) CPUs, kernel $(uname -r), dockerd $(dockerd --version | awk '{print $3}' | tr -d ,))"
