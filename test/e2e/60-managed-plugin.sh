#!/usr/bin/env bash
# End-to-end: lcow-graphdriver installed as a MANAGED plugin on a private dockerd 20.10, the documented way:
#   1. plugin/build                                   (target/plugin = config.json + rootfs/)
#   2. dockerd --storage-driver vfs                   (any built-in driver; the plugin must exist before -s names it;
#                                                     common.sh starts every dockerd with --experimental)
#   3. docker plugin create NAME target/plugin; docker plugin enable NAME
#      -> measures the time from `enable` to the plugin socket answering Plugin.Activate
#   4. stop dockerd, restart it on the same data root with --experimental -s NAME
#   5. docker scenario through the plugin (settable env LCOW_OPTS and args=--debug set before enabling): import a
#      busybox image, run (write, delete), diff, commit, run the committed image, SIGKILL the plugin (dockerd restarts
#      it; the next run still works), save, rm, rmi; the container's root is the plugin's mount, seen on the host
#      through the propagated mount
#   6. stop dockerd, start it again with vfs, disable and remove the plugin, stop dockerd
#   7. no mounts and no loop devices left behind
# Figures are printed as "FIGURE name value" lines (docs/benchmarks.md "Managed plugin").
# Needs root, dockerd 20.10 (docker.io), busybox-static, curl. LCOW_E2E_KEEP=1 keeps the scratch directory.
set -euo pipefail
# step, info, fail (with the dockerd log tail), dk, mounts_under, dockerd_start, dockerd_stop. This script keeps its own
# EXIT trap (it must remove an installed plugin), so it does not call e2e_init.
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$LCOW_REPO"

T=""
NAME="lcowm$$"
PID_PLUGIN_ID=""

figure() { printf 'FIGURE %s %s\n' "$1" "$2"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

[[ "$(id -u)" == 0 ]] || { echo "SKIP: needs root"; exit 0; }
for t in dockerd "$DOCKER_CLI" curl busybox; do
  command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 0; }
done

# ---- scratch directory and cleanup
T="$(mktemp -d "${TMPDIR:-/tmp}/lcow-managed.XXXXXX")"
DOCKERD_DIR="$T"   # common.sh's dk and fail use it
plugin_loops() {  # loop devices whose backing file is one of the plugin's images
  local f
  for f in /sys/block/loop*/loop/backing_file; do
    [[ -r "$f" ]] || continue
    if grep -qE "(/var/lib/lcow/$NAME(:latest)?/|$T/)" "$f" 2>/dev/null; then echo "${f%/loop/backing_file}"; fi
  done
}
cleanup() {
  local rc=$? m
  set +e
  dockerd_stop quiet
  # A failed run may leave the plugin installed: remove it with a vfs daemon so its data root can go. In a subshell:
  # a dockerd that does not start ends only the subshell (fail exits), not this clean-up.
  if [[ -n "$PID_PLUGIN_ID" && -d "$T/root/plugins/$PID_PLUGIN_ID" ]]; then
    (
      dockerd_start "$T" vfs
      dk plugin disable -f "$NAME" >/dev/null 2>&1
      dk plugin rm -f "$NAME" >/dev/null 2>&1
      dockerd_stop quiet
    )
  fi
  for m in $(mounts_under "$T"); do umount -l "$m" 2>/dev/null; done
  [[ -n "$PID_PLUGIN_ID" ]] && rmdir "/run/docker/plugins/$PID_PLUGIN_ID" 2>/dev/null
  if [[ "${LCOW_E2E_KEEP:-0}" == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT

# ---- 1. package
step "plugin/build"
start=$(now_ms)
"$here/plugin/build" >"$T/build.log" 2>&1 || { cat "$T/build.log" >&2; fail "plugin/build failed"; }
pkg="$here/target/plugin"
size_kb="$(du -sk "$pkg/rootfs" | cut -f1)"
info "built in $(( $(now_ms) - start )) ms; rootfs $((size_kb / 1024)) MiB"
figure rootfs_mib "$((size_kb / 1024))"
[[ "$size_kb" -lt $((80 * 1024)) ]] || info "WARNING: rootfs is over 80 MiB"
for f in config.json rootfs/opt/lcow/java/bin/java rootfs/opt/lcow/lcow-graphdriver.jar rootfs/usr/sbin/mke2fs \
         rootfs/lib64/ld-linux-x86-64.so.2; do
  [[ -e "$pkg/$f" ]] || fail "$pkg/$f missing"
done
for d in run/docker/plugins var/lib/lcow tmp dev; do
  [[ -d "$pkg/rootfs/$d" && -z "$(ls -A "$pkg/rootfs/$d")" ]] || fail "rootfs/$d must be an empty directory"
done
[[ ! -e "$pkg/rootfs/bin/sh" ]] || fail "the rootfs should hold no shell"

# ---- 2. dockerd with a built-in driver
step "dockerd --storage-driver vfs"
dockerd_start "$T" vfs

# ---- 3. create and enable, timing enable -> socket answering
step "docker plugin create $NAME"
start=$(now_ms)
dk plugin create "$NAME" "$pkg" >/dev/null || fail "docker plugin create"
figure plugin_create_ms "$(( $(now_ms) - start ))"
PID_PLUGIN_ID="$(dk plugin inspect -f '{{.Id}}' "$NAME")"
sock="/run/docker/plugins/$PID_PLUGIN_ID/lcow.sock"
info "plugin id $PID_PLUGIN_ID, socket $sock"

step "docker plugin set (settable env and args)"
dk plugin set "$NAME" LCOW_OPTS="lcow.sandboxsize=21 lcow.timeout=120" args=--debug || fail "docker plugin set"
[[ "$(dk plugin inspect -f '{{.Settings.Args}}' "$NAME")" == "[--debug]" ]] || fail "args not set"

step "docker plugin enable $NAME"
start=$(now_ms)
dk plugin enable "$NAME" >/dev/null &
enable_pid=$!
answered=""
for _ in $(seq 1500); do   # 15 s at most
  if curl -sf --max-time 2 --unix-socket "$sock" -X POST http://x/Plugin.Activate >"$T/activate.json" 2>/dev/null; then
    answered=$(now_ms); break
  fi
  sleep 0.01
done
wait "$enable_pid" || fail "docker plugin enable failed"
enable_done=$(now_ms)
[[ -n "$answered" ]] || fail "the plugin socket $sock did not answer within 15 s"
assert_json='{"Implements":["GraphDriver"]}'
[[ "$(cat "$T/activate.json")" == "$assert_json" ]] || fail "Activate answered $(cat "$T/activate.json")"
info "socket answered $((answered - start)) ms after 'docker plugin enable' started; the command took $((enable_done - start)) ms"
figure enable_to_socket_ms "$((answered - start))"
figure enable_command_ms "$((enable_done - start))"
[[ "$(dk plugin inspect -f '{{.Enabled}}' "$NAME")" == true ]] || fail "plugin not enabled"
grep -q "lcow serve: ready" "$T/dockerd.log" || fail "the plugin's log did not reach dockerd's log"
grep -F "options [lcow.sandboxsize=21, lcow.timeout=120]" "$T/dockerd.log" >/dev/null \
  || fail "LCOW_OPTS set with docker plugin set did not reach serve --opts-env"
info "$(grep -o 'lcow serve: ready [0-9]* ms after JVM start' "$T/dockerd.log" | tail -1)"

# ---- 4. restart dockerd on the plugin
step "restart dockerd with --experimental -s $NAME"
dockerd_stop
[[ ! -S "$sock" ]] || fail "plugin socket $sock left behind after dockerd stopped"
: >"$T/dockerd.log.2"; mv "$T/dockerd.log" "$T/dockerd.log.1"
start=$(now_ms)
dockerd_start "$T" "$NAME"
info "dockerd up in $(( $(now_ms) - start )) ms"
grep -q "Initialized graph driver $NAME" "$T/dockerd.log" || fail "dockerd did not initialise graph driver $NAME"
[[ "$(dk info -f '{{.Driver}}')" == "$NAME"* ]] || fail "docker info shows driver $(dk info -f '{{.Driver}}')"
prop="$T/root/plugins/$PID_PLUGIN_ID/propagated-mount"
[[ -d "$prop" ]] || fail "no propagated mount at $prop"
# Init's home is <PropagatedMount>/<name>: the driver's layer store appears there on the host.
[[ -d "$prop/$NAME/mnt" ]] || fail "no layer store at $prop/$NAME (Init home /var/lib/lcow/$NAME)"

# ---- 5. the docker scenario
step "docker import busybox"
bb="$T/bbroot"
mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/proc" "$bb/sys" "$bb/dev"
cp "$(command -v busybox)" "$bb/bin/busybox"
for a in $("$bb/bin/busybox" --list); do [[ "$a" == busybox ]] || ln -s busybox "$bb/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$bb/etc/passwd"
printf 'root:x:0:\n' >"$bb/etc/group"
tar -C "$bb" -cf "$T/busybox.tar" .
dk import "$T/busybox.tar" bb:test >/dev/null || fail "docker import"
[[ "$(dk run --rm --network none bb:test echo hello)" == hello ]] || fail "docker run echo"
grep -E 'DEBUG.*GraphDriver\.ApplyDiff.* ok in [0-9]+ ms' "$T/dockerd.log" >/dev/null \
  || fail "no DEBUG call log from the plugin: args=--debug did not reach serve"

step "docker run: write and delete files, with the container's root seen through the propagated mount"
dk run -d --name c1 --network none bb:test sh -c \
  'echo data >/hello && mkdir -p /d/e && echo x >/d/e/f && rm /etc/group && touch /ready && sleep 60' >/dev/null \
  || fail "docker run -d"
for _ in $(seq 100); do dk exec c1 test -e /ready 2>/dev/null && break; sleep 0.1; done
dk exec c1 test -e /ready || fail "container c1 did not get ready"
merged="$(dk inspect -f '{{.GraphDriver.Data.MergedDir}}' c1)"
info "GraphDriver.Data.MergedDir (plugin side): $merged"
[[ "$merged" == /var/lib/lcow/* ]] || fail "MergedDir $merged is not under the propagated mount /var/lib/lcow"
host_merged="$prop/${merged#/var/lib/lcow/}"
mounts_under "$prop" | grep -x "$host_merged" >/dev/null \
  || fail "the container's root $host_merged is not a mount on the host (propagation): $(mounts_under "$prop")"
info "host sees the mount at $host_merged: $(awk -v m="$host_merged" '$5 == m {for (i = 7; $i != "-"; i++); print $(i+1), $(i+2); exit}' /proc/self/mountinfo)"
cpid="$(dk inspect -f '{{.State.Pid}}' c1)"
info "container / is: $(awk '$5 == "/" {for (i = 7; $i != "-"; i++); print $(i+1), $(i+2)}' "/proc/$cpid/mountinfo")"
[[ "$(cat "/proc/$cpid/root/hello")" == data ]] || fail "the container's root does not show /hello"
[[ "$(cat "$host_merged/hello")" == data ]] || fail "the host's view of the container's root does not show /hello"
loops="$(plugin_loops | wc -l)"
info "$loops loop devices of the plugin in use"
[[ "$loops" -gt 0 ]] || fail "no loop device with a backing file of this plugin found (the leak check would be blind)"
dk stop -t 1 c1 >/dev/null

step "docker diff"
diff_out="$(dk diff c1 | sort)"
expected="$(printf '%s\n' 'A /d' 'A /d/e' 'A /d/e/f' 'A /hello' 'A /ready' 'C /etc' 'D /etc/group' | sort)"
[[ "$diff_out" == "$expected" ]] || fail "docker diff: expected
$expected
got
$diff_out"

step "docker commit and run the committed image"
dk commit c1 bb:c1 >/dev/null || fail "docker commit"
out="$(dk run --rm --network none bb:c1 sh -c 'cat /hello /d/e/f; test -e /etc/group && echo group-back || echo no-group')"
[[ "$out" == $'data\nx\nno-group' ]] || fail "committed image content: $out"

step "the plugin killed (SIGKILL) is restarted by dockerd and serves on"
ppid_=""
for c in /proc/[0-9]*/cgroup; do   # the plugin's container is the only process whose cgroup names the plugin id
  p="${c#/proc/}"; p="${p%/cgroup}"
  if grep -F "$PID_PLUGIN_ID" "$c" >/dev/null 2>&1 && [[ "$(readlink "/proc/$p/exe")" == */opt/lcow/java/bin/java ]]; then
    ppid_="$p"
  fi
done
[[ -n "$ppid_" ]] || fail "plugin process not found"
kill -KILL "$ppid_"
start=$(now_ms)
for _ in $(seq 1500); do
  [[ -d "/proc/$ppid_" ]] && { sleep 0.01; continue; }
  curl -sf --max-time 2 --unix-socket "$sock" -X POST http://x/Plugin.Activate >/dev/null 2>&1 && break
  sleep 0.01
done
curl -sf --max-time 2 --unix-socket "$sock" -X POST http://x/Plugin.Activate >/dev/null || fail "plugin not restarted"
info "plugin pid $ppid_ killed; a new one answered after $(( $(now_ms) - start )) ms"
out="$(dk run --rm --network none bb:c1 cat /hello)" || fail "docker run after the plugin restart"
[[ "$out" == data ]] || fail "docker run after the plugin restart printed '$out'"

step "docker save"
dk save bb:c1 -o "$T/saved.tar" || fail "docker save"
mkdir -p "$T/saved"
tar -C "$T/saved" -xf "$T/saved.tar"
layers="$(find "$T/saved" -name layer.tar | wc -l)"
[[ "$layers" == 2 ]] || fail "saved image has $layers layers, expected 2"
top=""
for l in $(find "$T/saved" -name layer.tar); do
  if tar -tf "$l" | grep -x '\(\./\)\?hello' >/dev/null; then top="$l"; fi
done
[[ -n "$top" ]] || fail "no saved layer holds /hello"
listing="$(tar -tf "$top")"
info "committed layer: $(echo $listing)"
grep -x '\(\./\)\?etc/\.wh\.group' <<<"$listing" >/dev/null || fail "the committed layer has no whiteout for /etc/group"
[[ "$(tar -xOf "$top" hello 2>/dev/null || tar -xOf "$top" ./hello)" == data ]] || fail "saved /hello content"

step "docker rm, rmi"
dk rm c1 >/dev/null || fail "docker rm"
dk rmi bb:c1 bb:test >/dev/null || fail "docker rmi"
left="$(dk images -q | wc -l)"
[[ "$left" == 0 ]] || fail "$left images left"

# ---- 6. stop, remove the plugin
step "stop dockerd; remove the plugin with a vfs daemon"
dockerd_stop
[[ -z "$(mounts_under "$prop")" ]] || fail "mounts left under the propagated mount: $(mounts_under "$prop")"
dockerd_start "$T" vfs
dk plugin disable "$NAME" >/dev/null || fail "docker plugin disable"
dk plugin rm "$NAME" >/dev/null || fail "docker plugin rm"
[[ -z "$(dk plugin ls -q)" ]] || fail "plugins left: $(dk plugin ls)"
dockerd_stop
PID_PLUGIN_ID_DONE="$PID_PLUGIN_ID"

# ---- 7. leaks
step "no leaked mounts or loop devices"
[[ -z "$(mounts_under "$T")" ]] || fail "mounts left under $T: $(mounts_under "$T")"
[[ -z "$(plugin_loops)" ]] || fail "loop devices left: $(plugin_loops)"
[[ ! -e "/run/docker/plugins/$PID_PLUGIN_ID_DONE/lcow.sock" ]] || fail "socket left in /run/docker/plugins"
echo "OK: managed plugin $NAME: created, enabled, served dockerd, removed"
