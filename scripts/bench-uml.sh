#!/usr/bin/env bash
# Benchmark of the User-mode Linux service VM (lcow.svm=uml), as root:
#   1. start to agent ready: BOOTS boots of one guest, each timed from exec of linux.uml to the agent's hello,
#   2. sandbox export of a 100 MB ext4 image: in the guest (read-only ubd attach, then the guest Diff's export command
#      exactly as GuestDiff.exportCommand builds it: GNU find's hard-link listing + GNU tar --format=pax ... from
#      /usr/libexec/lcow, streamed over the data line to the host; busybox tar -c once more for comparison with older
#      figures) vs the host backend's Diff path (scripts/lcow vhd2tar of the same image as a fixed VHD) and vs a
#      host-kernel loop mount + the same find + GNU tar command,
#   3. N (default 8) guests booted at once, each attaching its own copy of a 10 MB image and exporting it (the same
#      export command): wall time, total PSS of all UML processes after the exports.
# The guests are started exactly as io.lcowgd.svm.uml.UmlVm starts them (same kernel arguments, FIFO lines, guest
# agent from scripts/build-uvm), by a shell harness, so the figures exclude the JVM.
# Usage: scripts/bench-uml.sh [WORK_DIR]     Env: BOOTS (default 5), N (default 8), MEM (default 128, MiB),
#   ONLY1=1 (section 1 only), FAST_BOOT (boot tuning arguments, default: UmlProcess's), GUEST_UID (default 1879113727,
#   the last uid of UidRange.DEFAULT; 0 = no jail). Guests run confined as UmlVm runs them (GuestJail): unshare -m,
#   pivot_root into a minimal tree (here also holding WORK_DIR, the bench's images), setpriv to GUEST_UID with no
#   groups/capabilities, initrd through an inherited descriptor.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mkdir -p "${1:-$here/bench-out/uml}" && cd "${1:-$here/bench-out/uml}" && pwd)"
boots="${BOOTS:-5}"; n="${N:-8}"; mem="${MEM:-128}"
# Keep in step with UmlProcess.FAST_BOOT.
fast="${FAST_BOOT:-initcall_blacklist=raid6_select_algo,init_zswap,strp_dev_init pty.legacy_count=0 lpj=9773056}"
guest_uid="${GUEST_UID:-1879113727}"
# export_cmd DIR [FIND TAR]: the guest Diff's export of DIR, as GuestDiff.exportCommand (keep in step with its GNU_FIND,
# GNU_TAR and TAR_OPTIONS): the hard-link listing ("<inode> <path>\0" records, an empty record), then the tar stream.
export_cmd() {
  local find="${2:-/usr/libexec/lcow/find}" tar="${3:-/usr/libexec/lcow/tar}"
  printf '%s' "cd '$1' && $find . -mindepth 1 ! -type d -links +1 -printf '%i %P\\0' && printf '\\0' && exec $tar" \
    " -cf - -b 128 --format=pax --pax-option=delete=atime,delete=ctime --xattrs --xattrs-include='*'" \
    " --numeric-owner --sort=name --warning=no-file-ignored ."
}
# jail_root DIR: the guest's root tree DIR/.root and the fstab DIR/.fstab that fills it (as GuestJail.prepareRoot).
jail_root() {
  local d=$1 r=$1/.root f=$1/.fstab x n
  mkdir -p "$r"/{usr,dev/shm,proc} && mkdir -m 700 "$r/.h" && mkdir "$r/.h/host" && mkdir -p "$r$d" "$r$work"
  { echo "$r $r none bind 0 0"; echo "/usr $r/usr none bind,ro 0 0"
    for x in bin sbin lib lib32 lib64 libx32; do
      if [[ -L /$x ]]; then ln -s "$(readlink "/$x")" "$r/$x"; elif [[ -d /$x ]]; then mkdir "$r/$x"; echo "/$x $r/$x none bind,ro 0 0"; fi
    done
    for n in null zero random urandom; do : > "$r/dev/$n"; echo "/dev/$n $r/dev/$n none bind 0 0"; done
    echo "/dev/shm $r/dev/shm none bind 0 0"; echo "/proc $r/proc none bind 0 0"
    echo "$d $r$d none bind 0 0"; echo "$work $r$work none bind 0 0"; } > "$f"
}
jail_of() { # DIR -> the command prefix that runs a guest confined, in the array jail
  if [[ "$guest_uid" != 0 ]]; then
    jail_root "$1"
    jail=(unshare --mount --propagation private -- /bin/sh -c 'f=$1; r=$2; shift 2; mount -a -T "$f" && cd "$r" &&
      pivot_root . .h/host && cd / || exit 125; exec "$@"' sh "$1/.fstab" "$1/.root"
      setpriv --reuid="$guest_uid" --regid="$guest_uid" --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all --)
  else
    jail=(setpriv --no-new-privs --bounding-set=-all --inh-caps=-all --)
  fi
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); boot arguments: $fast; guest uid: $guest_uid"
uvm="$work/uvm"
"$here/scripts/build-uvm" "$uvm" >/dev/null
run="$(mktemp -d /run/lcow-uml-bench.XXXXXX)"; chmod 711 "$run"
cleanup() {
  local f
  for f in "$run"/*/pid; do [[ -e "$f" ]] && { kill -KILL -- "-$(cat "$f")" 2>/dev/null || kill -KILL "$(cat "$f")" 2>/dev/null || true; }; done
  rm -rf "$run"
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt"; fi
  [[ -z "${loopdev:-}" ]] || losetup -d "$loopdev" 2>/dev/null || true
}
trap cleanup EXIT
now() { date +%s%N; }
bytes_of() { wc -c | tr -d ' '; }

# uml_start NAME: boots a guest; sets fds in G_CI[NAME] etc. via files under $run/NAME; echoes ms to hello.
uml_start() {
  local name=$1 d="$run/$1"
  mkdir -p "$d/hostfs" "$d/uml" && (cd "$d" && mkfifo ci co dout)
  [[ "$guest_uid" == 0 ]] || { chown "$guest_uid:$guest_uid" "$d/uml"; chmod 711 "$d"; }
  local t0 jail; t0=$(now)
  jail_of "$d"   # part of the timed start, as GuestJail's preparation is part of UmlVm.boot
  # shellcheck disable=SC2086
  (cd "$d" && INITRD="$uvm/initrd.img" exec /bin/sh -c 'exec "$0" "$@" 3<ci 4>co 5>dout 6<"$INITRD" </dev/null' "${jail[@]}" \
    "$(readlink -f "$uvm/kernel")" mem="${mem}M" umid="bench-$$-$name" \
    uml_dir="$d/uml" con=null ssl=null ssl1=fd:3,fd:4 ssl2=null,fd:5 hostfs="$d/hostfs" initrd=/proc/self/fd/6 \
    rdinit=/init quiet $fast >"$d/console.log" 2>&1) &
  echo $! > "$d/pid"
  exec {ci}<>"$d/ci" {co}<>"$d/co" {dout}<>"$d/dout"
  echo "$ci $co $dout" > "$d/fds"
  local hello; read -t 30 -r hello <&"$co" || { echo "bench-uml: guest $name gave no hello in 30 s" >&2; return 1; }
  echo $(( ($(now) - t0) / 1000000 ))
}
fds() { cat "$run/$1/fds"; }
uml_cmd() { # NAME CMD -> prints stdout, fails on status
  local ci co dout r; read -r ci co dout < <(fds "$1")
  printf 'C %s\n' "$2" >&"$ci"; read -t 120 -r r <&"$co"; set -- $r
  head -c $(( $3 + $4 )) <&"$co"; [[ $2 == 0 ]]
}
uml_mconsole() { uml_mconsole_bin "$run/$1/uml/bench-$$-$1/mconsole" "${@:2}" 2>/dev/null | tail -1; }
uml_mconsole_bin() { command uml_mconsole "$@"; }
uml_stream() { # NAME CMD -> guest stdout to this stdout (guest drains its line, then R; end marker appended by us)
  local ci co dout r marker reader; read -r ci co dout < <(fds "$1")
  marker="LCOW-END-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  # Copy up to the marker, concurrently with the guest (the FIFO holds only 64 KiB).
  python3 -c '
import os, sys
fd, m = int(sys.argv[1]), sys.argv[2].encode()
out, tail = sys.stdout.buffer, b""
while True:
    buf = tail + os.read(fd, 1 << 16)
    i = buf.find(m)
    if i >= 0:
        out.write(buf[:i]); break
    k = max(0, len(buf) - len(m) + 1)
    out.write(buf[:k]); tail = buf[k:]
' "$dout" "$marker" &
  reader=$!
  printf 'S %s\n' "$2" >&"$ci"; read -t 600 -r r <&"$co"
  printf '%s' "$marker" >&"$dout"
  wait "$reader"
  set -- $r; head -c "$4" <&"$co" >&2
}
uml_stop() { local p; p=$(cat "$run/$1/pid")
  kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || echo "bench-uml: guest $1 (pid $p) had already exited" >&2
  wait "$p" 2>/dev/null || true
  local ci co dout; read -r ci co dout < <(fds "$1"); exec {ci}>&- {co}>&- {dout}>&-; }

if [[ "${ONLY3:-0}" != 1 ]]; then
echo "== 1. start to agent ready ($boots boots, mem=${mem}M)"
times=()
for i in $(seq "$boots"); do times+=("$(uml_start "b$i")"); uml_stop "b$i"; done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{printf "boot ms: %s  min %d  median %d  max %d\n", "'"${times[*]}"'", a[1], a[int((NR+1)/2)], a[NR]}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ "${ONLY1:-0}" != 1 ]] || exit 0

echo "== 2. export of a 100 MB ext4 sandbox image"
src="$work/src"
if [[ ! -f "$work/sandbox.img" ]]; then
  rm -rf "$src"; mkdir -p "$src"
  for i in $(seq 40); do head -c $((2 * 1024 * 1024)) /dev/urandom > "$src/big$i"; done   # 80 MiB in 40 files
  mkdir -p "$src/small"; for i in $(seq 2000); do head -c $((RANDOM % 16384)) /dev/urandom > "$src/small/f$i"; done
  mke2fs -q -t ext4 -F -d "$src" "$work/sandbox.img" 160M
  qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$work/sandbox.img" "$work/sandbox.vhd"
fi
# The jailed guest opens the image as GUEST_UID (UmlVm grants an ACL entry; the bench owns its scratch image).
[[ "$guest_uid" == 0 ]] || chown "$guest_uid:$guest_uid" "$work/sandbox.img"
t0=$(now); uml_start x >/dev/null; tb=$(now)
uml_mconsole x config "ubd1r=$work/sandbox.img" >/dev/null   # read-only, as GuestDiff attaches a sandbox
uml_cmd x "mkdir -p /tmp/d1 && mount -t ext4 -o ro,noload /dev/ubdb /tmp/d1" >/dev/null
t1=$(now); ub=$(uml_stream x "$(export_cmd /tmp/d1)" | bytes_of); t2=$(now)
ub2=$(uml_stream x "$(export_cmd /tmp/d1)" | bytes_of); t3=$(now)
bb=$(uml_stream x "tar -cf - -C /tmp/d1 ." | bytes_of); t4=$(now)
uml_cmd x "umount /tmp/d1" >/dev/null; uml_mconsole x remove ubd1 >/dev/null; uml_stop x; t5=$(now)
echo "UML guest export, find + GNU tar (cold): $ub bytes in $(( (t2-t1)/1000000 )) ms = $(( ub * 1000 / (t2-t1) )) MB/s; warm: $(( (t3-t2)/1000000 )) ms = $(( ub2 * 1000 / (t3-t2) )) MB/s; boot+attach+2 exports+busybox tar+stop $(( (t5-t0)/1000000 )) ms"
echo "UML guest busybox tar (warm, for comparison): $bb bytes in $(( (t4-t3)/1000000 )) ms = $(( bb * 1000 / (t4-t3) )) MB/s"
"$here/scripts/lcow" vhd2tar "$work/sandbox.vhd" | bytes_of >/dev/null   # build the jar, warm the cache
t1=$(now); hb=$("$here/scripts/lcow" vhd2tar "$work/sandbox.vhd" | bytes_of); t2=$(now)
echo "host backend (lcow vhd2tar, one JVM start included): $hb bytes in $(( (t2-t1)/1000000 )) ms = $(( hb * 1000 / (t2-t1) )) MB/s"
mkdir -p "$work/mnt"; loopdev=$(losetup -f --show -r "$work/sandbox.img"); mount -o ro,noload "$loopdev" "$work/mnt"
t1=$(now); kb=$(sh -c "$(export_cmd "$work/mnt" find tar)" | bytes_of); t2=$(now)
umount "$work/mnt"; losetup -d "$loopdev"; loopdev=
echo "host kernel (loop mount + the same find + GNU tar, warm cache): $kb bytes in $(( (t2-t1)/1000000 )) ms = $(( kb * 1000 / (t2-t1) )) MB/s"

fi
echo "== 3. $n guests at once: boot, attach an own 10 MB image copy, export it"
mkdir -p "$work/small.d"; for i in $(seq 200); do head -c 50000 /dev/urandom > "$work/small.d/f$i"; done
mke2fs -q -t ext4 -F -d "$work/small.d" "$work/small.img" 24M
for i in $(seq "$n"); do cp "$work/small.img" "$work/small$i.img"; done
guest_pss() { # NAME -> kB: PSS of the kernel process (its mm = guest RAM + kernel; the 2 helper processes share
  # that mm and are not counted again) plus the guest's own address-space processes (other process-group members)
  local p q v kr pss=0; p=$(cat "$run/$1/pid")
  kr=$(awk '/^Rss:/{print $2}' "/proc/$p/smaps_rollup"); pss=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")
  for q in $(pgrep -g "$p"); do
    [[ "$q" != "$p" ]] || continue
    [[ "$(awk '/^Rss:/{print $2}' "/proc/$q/smaps_rollup" 2>/dev/null)" != "$kr" ]] || continue
    v=$(awk '/^Pss:/{print $2}' "/proc/$q/smaps_rollup" 2>/dev/null || true); pss=$((pss + ${v:-0}))
  done
  echo "$pss"
}
one() {
  uml_start "c$1" >/dev/null
  uml_mconsole "c$1" config "ubd1r=$work/small$1.img" >/dev/null
  uml_cmd "c$1" "mkdir -p /tmp/d1 && mount -t ext4 -o ro,noload /dev/ubdb /tmp/d1" >/dev/null
  uml_stream "c$1" "$(export_cmd /tmp/d1)" | bytes_of > "$run/c$1.bytes"
  guest_pss "c$1" > "$run/c$1.pss"
}
t0=$(now)
for i in $(seq "$n"); do one "$i" & done; wait
t1=$(now)
total=0; pss=0
for i in $(seq "$n"); do total=$((total + $(cat "$run/c$i.bytes"))); pss=$((pss + $(cat "$run/c$i.pss"))); done
echo "$n guests: boot+attach+export of $total bytes in $(( (t1-t0)/1000000 )) ms wall; total PSS of the guests right after their export $((pss / 1024)) MiB"
for i in $(seq "$n"); do uml_stop "c$i"; done
left=$(pgrep -af "umid=bench-$$-" || true); [[ -z "$left" ]] && echo "no linux.uml process left" || { echo "LEFT: $left"; exit 1; }
