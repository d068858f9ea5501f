#!/usr/bin/env bash
# End-to-end proof with a real dockerd 20.10 (Debian docker.io) using the plugin as its storage driver.
#
# Part 1 (legacy plugin on /run/docker/plugins/<name>.sock, dockerd --experimental -s <name>):
#   import a busybox image; run a container that writes and deletes files; docker diff (exact output); ps -s (size);
#   commit; run the committed image; save, rmi, load, tag a fresh name and run it (and check the saved commit layer);
#   cp both ways; export; inspect; stop dockerd (no mounts or loop devices left, every image passes e2fsck -fn);
#   restart dockerd with the state intact; restart the plugin alone (no re-Init); rm, rmi; final leak and e2fsck checks.
# Part 2 (TCP): the plugin on 127.0.0.1:<port> registered with /etc/docker/plugins/<name>.spec, no socket: import,
#   run, rm, rmi.
#
# LCOW_E2E_DRIVER=vfs|overlay2 runs part 1 against dockerd's built-in driver instead (to debug the harness); the
# default is the plugin. Each run uses a unique plugin name (lcowtest<pid>) and its own scratch directory.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DRIVER_MODE="${LCOW_E2E_DRIVER:-plugin}"
e2e_init dockerd

BB_TAR="$(busybox_tar)"
info "busybox image tar $BB_TAR ($(stat -c %s "$BB_TAR") bytes)"

D1="$E2E_T/d1"
if [[ "$DRIVER_MODE" == plugin ]]; then
  step "build the jar and start the plugin"
  lcow_build
  DRIVER="lcowtest$$"
  plugin_start "$DRIVER" "$E2E_T/plugin-root"
else
  DRIVER="$DRIVER_MODE"
fi
HOME_DIR="$D1/root/$DRIVER"   # the Home dockerd sends in Init (for built-in drivers: the driver's own directory)

is_plugin() { [[ "$DRIVER_MODE" == plugin ]]; }
# whether to check our layout (<Home>/<id>/layer.vhd, sandbox.vhdx): only for our own plugin (some scripts/lcow)
is_lcow() { is_plugin && [[ "${LCOW_E2E_SERVE:-scripts/lcow}" == *scripts/lcow* ]]; }

# The driver's cache id of the top layer of image $1 (from dockerd's layer database).
layer_cache_id() {
  local chain
  chain="$("$PY" - "$D1/root/image/$DRIVER" "$(dk image inspect -f '{{json .RootFS.Layers}}' "$1")" <<'EOF'
import hashlib, json, sys
layers = json.loads(sys.argv[2])
chain = layers[0]
for d in layers[1:]:
    chain = "sha256:" + hashlib.sha256((chain + " " + d).encode()).hexdigest()
print(chain.split(":", 1)[1])
EOF
)"
  cat "$D1/root/image/$DRIVER/layerdb/sha256/$chain/cache-id"
}

# The driver's mount id of container $1.
container_mount_id() {
  local id
  id="$(dk inspect -f '{{.Id}}' "$1")"
  cat "$D1/root/image/$DRIVER/layerdb/mounts/$id/mount-id"
}

# check_diff CONTAINER: `docker diff` prints exactly the changes of container c1 (each parent directory line above the
# lines of its children; the order of siblings is the driver's: vfs walks in its own order).
check_diff() {
  local out
  out="$(run_ok dk diff "$1")"
  assert_eq "docker diff $1 (sorted)" "A /newdir
A /tmp/newfile
C /etc
C /tmp
D /etc/group" "$(sort <<< "$out")"
  "$PY" -c '
import os, sys
paths = [l.split(" ", 1)[1] for l in sys.argv[1].splitlines()]
for i, p in enumerate(paths):
    parent = os.path.dirname(p)
    if parent in paths and paths.index(parent) > i:
        sys.exit(p + " comes before its parent " + parent)
' "$out" || fail "docker diff $1 lists a path before its parent directory: $(oneline "$out")"
  info "docker diff $1: $(oneline "$out")"
}

# ---------------------------------------------------------------------------------------------------------------------
step "start dockerd -s $DRIVER"
dockerd_start "$D1" "$DRIVER"
if is_plugin; then
  grep -q "Initialized graph driver $DRIVER" "$D1/dockerd.log" || fail "dockerd log lacks 'Initialized graph driver $DRIVER'"
  status="$(dk info -f '{{json .DriverStatus}}')"
  info "docker info DriverStatus: $status"
  [[ "$status" != null && "$status" != "[]" ]] || fail "docker info shows no Status lines from the plugin"
fi

step "import the busybox image"
run_ok dk import "$BB_TAR" bb:e2e >/dev/null
out="$(run_ok dk run --rm --network none bb:e2e sh -c 'echo hello')"
assert_eq "output of run bb:e2e" "hello" "$out"
if is_lcow; then
  cid="$(layer_cache_id bb:e2e)"
  [[ -f "$HOME_DIR/$cid/layer.vhd" ]] || { ls -la "$HOME_DIR" "$HOME_DIR/$cid" >&2 || true; fail "imported layer $cid has no $HOME_DIR/$cid/layer.vhd"; }
  info "imported layer stored as $HOME_DIR/$cid/layer.vhd ($(stat -c %s "$HOME_DIR/$cid/layer.vhd") bytes)"
fi
size="$(dk image inspect -f '{{.Size}}' bb:e2e)"
info "image size $size bytes"

step "run a container that writes and deletes files"
run_ok dk run --network none --name c1 bb:e2e sh -c 'echo data > /tmp/newfile; rm /etc/group; mkdir /newdir' >/dev/null
if is_lcow; then
  mid="$(container_mount_id c1)"
  [[ -f "$HOME_DIR/$mid/sandbox.vhdx" ]] || { ls -la "$HOME_DIR/$mid" >&2 || true; fail "container c1 (mount $mid) has no sandbox.vhdx"; }
  info "container layer stored as $HOME_DIR/$mid/sandbox.vhdx"
fi

step "docker diff shows exactly the changes"
check_diff c1

step "docker ps -s shows the size of the container's changes"
out="$(run_ok dk ps -a -s --filter name='^c1$' --format '{{.Size}}')"
info "ps -s: $out"
[[ "$out" == "5B (virtual "* ]] || fail "ps -s size of c1 is '$out', expected '5B (virtual ...)' (one 5-byte file)"

step "commit and run the committed image"
run_ok dk commit c1 bb:committed >/dev/null
out="$(run_ok dk run --rm --network none bb:committed sh -c 'cat /tmp/newfile; [ -e /etc/group ] || echo nogroup; [ -d /newdir ] && echo newdir; cat /etc/passwd | head -1')"
assert_eq "output of run bb:committed" "data
nogroup
newdir
root:x:0:0:root:/root:/bin/sh" "$out"
out="$(run_ok dk history -q bb:committed | wc -l)"
[[ "$out" == 2 ]] || fail "bb:committed has $out history entries, expected 2"

step "save, rmi, load into a fresh name, run it"
run_ok dk save -o "$E2E_T/saved.tar" bb:committed >/dev/null
mkdir "$E2E_T/saved"
tar -C "$E2E_T/saved" -xf "$E2E_T/saved.tar"
top_layer="$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m[0]["Layers"][-1]); assert len(m[0]["Layers"]) == 2, m' "$E2E_T/saved/manifest.json")"
entries="$(tar -tf "$E2E_T/saved/$top_layer" | sort)"
info "commit layer $top_layer: $(oneline "$entries")"
# parent directory entries (etc/, tmp/) may be present or not; everything else must be exactly this
assert_eq "entries of the saved commit layer (without parent dirs)" "etc/.wh.group
newdir/
tmp/newfile" "$(printf '%s\n' "$entries" | grep -v -x -e 'etc/' -e 'tmp/' -e './' || true)"
[[ "$(tar -xOf "$E2E_T/saved/$top_layer" tmp/newfile)" == data ]] || fail "tmp/newfile in the saved layer does not hold 'data'"
run_ok dk rmi bb:committed >/dev/null
run_ok dk load -i "$E2E_T/saved.tar" >/dev/null
run_ok dk tag bb:committed bb:loaded >/dev/null
run_ok dk rmi bb:committed >/dev/null
out="$(run_ok dk run --rm --network none bb:loaded sh -c 'cat /tmp/newfile; [ -e /etc/group ] || echo nogroup; [ -d /newdir ] && echo newdir')"
assert_eq "output of run bb:loaded" "data
nogroup
newdir" "$out"

step "four containers at once (concurrent requests)"
pids=()
for i in 1 2 3 4; do
  dk run --rm --network none bb:loaded sh -c "cat /tmp/newfile > /tmp/p$i; cat /tmp/p$i" > "$E2E_T/par$i.out" 2>&1 &
  pids+=($!)
done
for i in 1 2 3 4; do
  wait "${pids[$((i - 1))]}" || { cat "$E2E_T/par$i.out" >&2; fail "parallel container $i failed"; }
  [[ "$(cat "$E2E_T/par$i.out")" == data ]] || fail "parallel container $i printed '$(cat "$E2E_T/par$i.out")'"
done

if is_lcow; then
  step "sandbox size: default and per container (docker run --storage-opt lcow.sandboxsize=30)"
  # df of / inside the container reports the sandbox's ext4 (the writable layer)
  kib="$(run_ok dk run --rm --network none bb:e2e sh -c "df -k / | tail -n 1 | awk '{print \$2}'")"
  info "default sandbox: $kib KiB"
  (( kib > 18 * 1024 * 1024 && kib <= 20 * 1024 * 1024 )) || fail "default sandbox has $kib KiB, expected about 20 GiB"
  kib="$(run_ok dk run --rm --network none --storage-opt lcow.sandboxsize=30 bb:e2e sh -c "df -k / | tail -n 1 | awk '{print \$2}'")"
  info "lcow.sandboxsize=30 sandbox: $kib KiB"
  (( kib > 28 * 1024 * 1024 && kib <= 30 * 1024 * 1024 )) || fail "sandbox with lcow.sandboxsize=30 has $kib KiB, expected about 30 GiB"
fi

step "docker cp both ways"
head -c 300000 /dev/urandom > "$E2E_T/host.bin"
run_ok dk create --network none --name c2 bb:loaded sh -c 'md5sum /host.bin; cat /tmp/newfile' >/dev/null
run_ok dk cp "$E2E_T/host.bin" c2:/host.bin >/dev/null
run_ok dk cp c2:/host.bin "$E2E_T/back.bin" >/dev/null
cmp "$E2E_T/host.bin" "$E2E_T/back.bin" || fail "file copied into c2 and back differs"
run_ok dk cp c1:/tmp/newfile "$E2E_T/newfile" >/dev/null
[[ "$(cat "$E2E_T/newfile")" == data ]] || fail "docker cp c1:/tmp/newfile gave '$(cat "$E2E_T/newfile")'"
out="$(run_ok dk start -a c2)"
assert_eq "output of start -a c2" "$(md5sum < "$E2E_T/host.bin" | awk '{print $1}')  /host.bin
data" "$out"

step "docker export"
run_ok dk export -o "$E2E_T/c1.tar" c1 >/dev/null
# exactly the image's entries, minus etc/group, plus the container's changes and what dockerd adds (init layer)
expected="$( { tar -tf "$BB_TAR"; printf '%s\n' .dockerenv dev/console dev/pts dev/shm etc/hostname etc/hosts etc/mtab \
  etc/resolv.conf newdir tmp/newfile; } | sed -e 's|^\./||' -e 's|/$||' | grep -v -x -e '' -e etc/group | sort -u)"
actual="$(tar -tf "$E2E_T/c1.tar" | sed -e 's|^\./||' -e 's|/$||' | grep -v -x -e '' | sort)"
assert_eq "entries of docker export c1" "$expected" "$actual"
[[ "$(tar -xOf "$E2E_T/c1.tar" tmp/newfile 2>/dev/null || tar -xOf "$E2E_T/c1.tar" ./tmp/newfile)" == data ]] \
  || fail "tmp/newfile in the export does not hold 'data'"
info "export has exactly the expected $(wc -l <<< "$actual") entries"

step "docker inspect"
out="$(run_ok dk inspect -f '{{.GraphDriver.Name}}' c1)"
assert_eq "GraphDriver.Name of c1" "$DRIVER" "$out"
data="$(run_ok dk inspect -f '{{json .GraphDriver.Data}}' c1)"
info "c1 GraphDriver.Data: $data"
if [[ "$DRIVER" != vfs ]]; then
  [[ "$data" != null && "$data" != "{}" ]] || fail "GraphDriver.Data of c1 is empty"
fi
out="$(run_ok dk image inspect -f '{{.GraphDriver.Name}}' bb:loaded)"
assert_eq "GraphDriver.Name of bb:loaded" "$DRIVER" "$out"

step "stop dockerd: no leaks, every image passes e2fsck"
dockerd_stop
check_no_leaks "$E2E_T"
check_images "$E2E_T"

step "restart dockerd: state intact"
dockerd_start "$D1" "$DRIVER"
out="$(run_ok dk images --format '{{.Repository}}:{{.Tag}}' | sort)"
assert_eq "images after restart" "bb:e2e
bb:loaded" "$out"
out="$(run_ok dk ps -a --format '{{.Names}}' | sort)"
assert_eq "containers after restart" "c1
c2" "$out"
check_diff c1
out="$(run_ok dk start -a c2)"
assert_eq "output of start -a c2 after restart" "$(md5sum < "$E2E_T/host.bin" | awk '{print $1}')  /host.bin
data" "$out"
out="$(run_ok dk run --rm --network none bb:loaded cat /tmp/newfile)"
assert_eq "output of run bb:loaded after restart" "data" "$out"

if is_plugin; then
  step "restart the plugin alone (dockerd keeps running, no new Init)"
  plugin_stop
  plugin_start "$DRIVER" "$E2E_T/plugin-root"
  out="$(run_ok dk run --rm --network none bb:loaded sh -c 'cat /tmp/newfile; ls /newdir | wc -l')"
  assert_eq "output of run bb:loaded after a plugin restart" "data
0" "$out"
  out="$(run_ok dk start -a c2)"
  [[ "$out" == *"/host.bin"* ]] || fail "start -a c2 after a plugin restart printed '$out'"
fi

step "rm and rmi"
run_ok dk rm c1 c2 >/dev/null
run_ok dk rmi bb:loaded >/dev/null
run_ok dk rmi bb:e2e >/dev/null
out="$(dk images -q; dk ps -a -q)"
assert_eq "images and containers left" "" "$out"
if is_lcow; then
  left="$(find "$HOME_DIR" -mindepth 2 -maxdepth 2 \( -name layer.vhd -o -name sandbox.vhdx \) -not -path "$HOME_DIR/cache/*" || true)"
  [[ -z "$left" ]] || { printf '%s\n' "$left" >&2; fail "layers left in $HOME_DIR after rm and rmi"; }
fi
# dockerd still runs: with every container and image gone, nothing of the driver may stay mounted or attached
check_no_leaks "$E2E_T" "$D1"

step "final stop: no leaks, every image passes e2fsck"
dockerd_stop
if is_plugin; then plugin_stop; fi
check_no_leaks "$E2E_T"
check_images "$E2E_T"

# ---------------------------------------------------------------------------------------------------------------------
if is_plugin; then
  step "TCP: plugin on 127.0.0.1 with a .spec file, no socket"
  TCP_NAME="lcowtcp$$"
  port="$(free_port)"
  plugin_start_tcp "$TCP_NAME" "$E2E_T/plugin-tcp-root" "$port"
  step "a bad --storage-opt lcow.* makes Init fail and dockerd refuse to start"
  dockerd_expect_failure "$E2E_T/d-bad" "$TCP_NAME" "lcow\.nosuchoption" --storage-opt lcow.nosuchoption=1
  step "TCP: dockerd with the spec file"
  dockerd_start "$E2E_T/d2" "$TCP_NAME"
  run_ok dk import "$BB_TAR" bb:tcp >/dev/null
  out="$(run_ok dk run --rm --network none bb:tcp sh -c 'echo over tcp > /tmp/x; cat /tmp/x')"
  assert_eq "output of run over TCP" "over tcp" "$out"
  run_ok dk rmi bb:tcp >/dev/null
  grep -q "$TCP_NAME implements: GraphDriver" "$E2E_T/d2/dockerd.log" || fail "dockerd log lacks '$TCP_NAME implements: GraphDriver'"
  dockerd_stop
  plugin_stop
  check_no_leaks "$E2E_T"
  check_images "$E2E_T"
fi

step "done: dockerd scenario passed with -s $DRIVER"
