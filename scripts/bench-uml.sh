#!/usr/bin/env bash
# Benchmark of the User-mode Linux service VM (lcow.svm=uml), as root:
#   1. start to agent ready: BOOTS boots of one guest, each timed from exec of linux.uml to the agent's hello,
#   2. sandbox export of a 100 MB ext4 image: in the guest (ubd attach, busybox tar -c, streamed over the data line
#      to the host) vs the host backend's Diff path (scripts/lcow vhd2tar of the same image as a fixed VHD) and vs a
#      host-kernel loop mount + GNU tar -c,
#   3. N (default 8) guests booted at once, each attaching its own copy of a 10 MB image and exporting it: wall time,
#      total PSS of all UML processes after the exports.
# The guests are started exactly as io.lcowgd.svm.uml.UmlVm starts them (same kernel arguments, FIFO lines, guest
# agent from scripts/build-uvm), by a shell harness, so the figures exclude the JVM.
# Usage: scripts/bench-uml.sh [WORK_DIR]     Env: BOOTS (default 5), N (default 8), MEM (default 128, MiB)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mkdir -p "${1:-$here/bench-out/uml}" && cd "${1:-$here/bench-out/uml}" && pwd)"
boots="${BOOTS:-5}"; n="${N:-8}"; mem="${MEM:-128}"
uvm="$work/uvm"
"$here/scripts/build-uvm" "$uvm" >/dev/null
run="$(mktemp -d /run/lcow-uml-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  rm -rf "$run"
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt"; fi
  [[ -z "${loopdev:-}" ]] || losetup -d "$loopdev" 2>/dev/null || true
}
trap cleanup EXIT
now() { date +%s%N; }

# uml_start NAME: boots a guest; sets fds in G_CI[NAME] etc. via files under $run/NAME; echoes ms to hello.
uml_start() {
  local name=$1 d="$run/$1"
  mkdir -p "$d/hostfs" && (cd "$d" && mkfifo ci co dout)
  local t0; t0=$(now)
  (cd "$d" && exec setpriv --no-new-privs --bounding-set=-all --inh-caps=-all -- /bin/sh -c \
    'exec "$0" "$@" 3<ci 4>co 5>dout </dev/null' "$(readlink -f "$uvm/kernel")" mem="${mem}M" umid="bench-$$-$name" \
    uml_dir="$d" con=null ssl=null ssl1=fd:3,fd:4 ssl2=null,fd:5 hostfs="$d/hostfs" initrd="$uvm/initrd.img" \
    rdinit=/init quiet initcall_blacklist=raid6_select_algo,init_zswap,strp_dev_init >"$d/console.log" 2>&1) &
  echo $! > "$d/pid"
  exec {ci}<>"$d/ci" {co}<>"$d/co" {dout}<>"$d/dout"
  echo "$ci $co $dout" > "$d/fds"
  local hello; read -t 30 -r hello <&"$co"
  echo $(( ($(now) - t0) / 1000000 ))
}
fds() { cat "$run/$1/fds"; }
uml_cmd() { # NAME CMD -> prints stdout, fails on status
  local ci co dout r; read -r ci co dout < <(fds "$1")
  printf 'C %s\n' "$2" >&"$ci"; read -t 120 -r r <&"$co"; set -- $r
  head -c $(( $3 + $4 )) <&"$co"; [[ $2 == 0 ]]
}
uml_mconsole() { uml_mconsole_bin "$run/$1/bench-$$-$1/mconsole" "${@:2}" | tail -1; }
uml_mconsole_bin() { command uml_mconsole "$@"; }
uml_stream() { # NAME CMD -> guest stdout to this stdout (drained, then R; end marker appended by us)
  local ci co dout r marker; read -r ci co dout < <(fds "$1")
  printf 'S %s\n' "$2" >&"$ci"; read -t 600 -r r <&"$co"
  marker="LCOW-END-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s' "$marker" >&"$dout"
  # Copy up to the marker (the bench data is tar, so the marker is found only at the end).
  LC_ALL=C awk -v m="$marker" 'BEGIN{RS=m; ORS=""} {printf "%s", $0; exit}' <&"$dout"
}
uml_stop() { local p; p=$(cat "$run/$1/pid"); kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p"; wait "$p" 2>/dev/null || true
  local ci co dout; read -r ci co dout < <(fds "$1"); exec {ci}>&- {co}>&- {dout}>&-; }

echo "== 1. start to agent ready ($boots boots, mem=${mem}M)"
times=()
for i in $(seq "$boots"); do times+=("$(uml_start "b$i")"); uml_stop "b$i"; done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{printf "boot ms: %s  min %d  median %d  max %d\n", "'"${times[*]}"'", a[1], a[int((NR+1)/2)], a[NR]}'
