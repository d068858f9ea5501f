#!/usr/bin/env bash
# Benchmarks tar -> ext4-in-VHD conversion against `mke2fs -t ext4 -d` and `tar -xf` on the three corpora of
# scripts/bench-corpus.sh. Every output (image, tree) goes to one loop-mounted, journaled ext4 scratch filesystem.
#   scripts/bench-tar2vhd.sh [DIR]     (as root; DIR defaults to ./bench-out; corpora are kept in DIR/corpus)
# Runs of the three tools are interleaved (ours is served by one warm JVM), so they share the same background load.
# Environment: RUNS (timed runs per tool, default 5), CORPORA (default "debian small random"),
#              JAVA_OPTS (default -Xmx128m -XX:+UseSerialGC).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(realpath -m "${1:-$here/bench-out}")"
runs="${RUNS:-5}"
corpora="${CORPORA:-debian small random}"
java_opts="${JAVA_OPTS:--Xmx128m -XX:+UseSerialGC}"
[[ "$(id -u)" == 0 ]] || { echo "bench-tar2vhd: run as root (loop mounts)" >&2; exit 2; }

mkdir -p "$dir"
"$here/scripts/bench-corpus.sh" "$dir/corpus"

jar="$here/target/lcow-graphdriver.jar"
if [[ ! -f "$jar" ]] || [[ -n "$(find "$here/src/main" "$here/pom.xml" -newer "$jar" -print -quit)" ]]; then
  (cd "$here" && mvn -q -B -ntp -DskipTests package >&2)
fi

scratch_img="$dir/scratch.ext4"
mnt="$dir/scratch"
loopdev=""
cleanup() {
  if mountpoint -q "$mnt"; then umount "$mnt"; fi
  if [[ -n "$loopdev" ]] && losetup "$loopdev" >/dev/null 2>&1; then losetup -d "$loopdev"; fi
  rm -f "$scratch_img"
}
trap cleanup EXIT
rm -f "$scratch_img"
truncate -s 64G "$scratch_img"
mke2fs -q -F -t ext4 "$scratch_img"   # default features: has_journal
loopdev="$(losetup --find --show "$scratch_img")"
mkdir -p "$mnt"
mount -t ext4 "$loopdev" "$mnt"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
best() { sort -n | head -1; }
now() { date +%s.%N; }

# Our converter runs in one warm JVM serving conversion requests, so its runs can be interleaved with the other
# tools' runs: every tool sees the same background load over time.
coproc BENCH { java $java_opts -cp "$jar" io.lcowgd.convert.ConvertBench --serve "$mnt/ours.vhd"; }
ours_run() { echo "$1" >&"${BENCH[1]}"; local t; read -r t <&"${BENCH[0]}"; echo "$t"; }

printf '%-8s %10s | %18s | %18s | %18s | %8s %8s\n' corpus "tar MB" "lcow tar2vhd" "mke2fs -d" "tar -xf" "vs mke2fs" "vs tar"
for c in $corpora; do
  tarf="$dir/corpus/$c.tar"
  bytes=$(stat -c %s "$tarf")
  mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1e6}')

  # Reference tree for mke2fs -d (tar -x as root keeps owners, modes and xattrs, like a layer unpack).
  rm -rf "$mnt/tree"; mkdir "$mnt/tree"
  tar --xattrs --xattrs-include='*' -xf "$tarf" -C "$mnt/tree"
  kb=$(du -sk "$mnt/tree" | awk '{print $1}')
  size_kb=$(( kb * 13 / 10 + 65536 ))
  inodes=$(find "$mnt/tree" | wc -l)
  inodes=$(( inodes + inodes / 5 + 1024 ))

  t_ours=(); t_tar=(); t_mkfs=()
  for i in $(seq 0 "$runs"); do          # run 0 is the warm-up, not counted
    sync; t=$(ours_run "$tarf")
    [[ $i -gt 0 ]] && t_ours+=("$t")
    rm -rf "$mnt/x"; mkdir "$mnt/x"; sync
    t0=$(now); tar --xattrs --xattrs-include='*' -xf "$tarf" -C "$mnt/x"; t1=$(now)
    [[ $i -gt 0 ]] && t_tar+=("$(echo "$t1 - $t0" | bc -l)")
    rm -f "$mnt/mke2fs.img"; sync
    t0=$(now); mke2fs -q -F -t ext4 -N "$inodes" -d "$mnt/tree" "$mnt/mke2fs.img" "${size_kb}k" >/dev/null; t1=$(now)
    [[ $i -gt 0 ]] && t_mkfs+=("$(echo "$t1 - $t0" | bc -l)")
  done
  rm -rf "$mnt/x" "$mnt/tree" "$mnt/mke2fs.img"
  ours=$(printf '%s\n' "${t_ours[@]}" | median); ours_best=$(printf '%s\n' "${t_ours[@]}" | best)
  tarx=$(printf '%s\n' "${t_tar[@]}" | median); tarx_best=$(printf '%s\n' "${t_tar[@]}" | best)
  mkfs=$(printf '%s\n' "${t_mkfs[@]}" | median); mkfs_best=$(printf '%s\n' "${t_mkfs[@]}" | best)

  rate() { awk -v b="$bytes" -v t="$1" -v u="$2" 'BEGIN {printf "%5.0f (%5.0f) MB/s", b / 1e6 / t, b / 1e6 / u}'; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
  printf '%-8s %10s | %18s | %18s | %18s | %8s %8s\n' "$c" "$mb" "$(rate "$ours" "$ours_best")" \
    "$(rate "$mkfs" "$mkfs_best")" "$(rate "$tarx" "$tarx_best")" \
    "$(ratio "$mkfs" "$ours")" "$(ratio "$tarx" "$ours")"
done
exec {BENCH[1]}>&-
wait "$BENCH_PID" 2>/dev/null || true
echo "(MB/s of tar input: median (best) of $runs interleaved timed runs after one warm-up; ratios of medians: other tool's time"
echo " / lcow tar2vhd time, >1 means lcow is faster. load average: $(cut -d' ' -f1-3 /proc/loadavg))"
