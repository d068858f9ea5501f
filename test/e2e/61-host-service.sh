#!/usr/bin/env bash
# End-to-end: the host-service installation (plugin/install-host-service + plugin/lcow.service), without systemd:
#   1. install into a staging DESTDIR: files, modes, /etc/default/lcow; `systemd-analyze verify` of the unit
#   2. run the unit's own ExecStart and ExecStartPost command lines (paths mapped into DESTDIR, a private socket,
#      LCOW_OPTS from the installed /etc/default/lcow): the socket answers, a private dockerd 20.10 started with
#      -s <name> initialises the driver through it (and imports and runs an image when the driver is wired),
#      SIGTERM ends the service with status 0 and removes the socket
#   3. reinstall keeps an edited /etc/default/lcow; --uninstall removes the unit and /opt/lcow and keeps settings;
#      --uninstall --purge removes everything
# Needs root (dockerd, mounts), curl, dockerd 20.10 (docker.io), busybox-static; systemd-analyze when installed.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$LCOW_REPO"
NAME="lcowh$$"

[[ "$(id -u)" == 0 ]] || { echo "SKIP: needs root"; exit 0; }
for t in curl java; do command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 0; }; done

# The scratch directory, dockerd and the service are cleaned up by common.sh's EXIT trap (the service is registered as
# its plugin: PLUGIN_PID, PLUGIN_SOCK; PLUGIN_LOG makes failures show the service log tail).
e2e_init hostsvc
T="$E2E_T"
D="$T/dest"
SOCK="$PLUGIN_DIR/$NAME.sock"
PLUGIN_NAME="$NAME"
PLUGIN_LOG="$T/service.log"
STOP_RC=""
stop_pid() {  # $1 pid (a child of this shell): SIGTERM, wait up to 30 s, then SIGKILL; exit status in STOP_RC
  local pid="$1" rc=0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || rc=$?
  STOP_RC="$rc"
}

# ---- 1. staging install
step "install-host-service --destdir"
"$here/plugin/install-host-service" --destdir "$D" >"$T/install.out" 2>&1 || { cat "$T/install.out"; fail "install"; }
grep -F '{"experimental": true, "storage-driver": "lcow"}' "$T/install.out" >/dev/null \
  || fail "the daemon.json snippet was not printed"
for f in opt/lcow/lcow-graphdriver.jar etc/systemd/system/lcow.service etc/default/lcow opt/lcow/packaging.md; do
  [[ -f "$D/$f" ]] || fail "$f not installed"
  [[ "$(stat -c %a "$D/$f")" == 644 ]] || fail "$f has mode $(stat -c %a "$D/$f"), expected 644"
done
cmp -s "$here/target/lcow-graphdriver.jar" "$D/opt/lcow/lcow-graphdriver.jar" || fail "installed jar differs"
unit="$D/etc/systemd/system/lcow.service"
grep -x 'Before=docker.service' "$unit" >/dev/null || fail "unit lacks Before=docker.service"
grep -x 'Restart=on-failure' "$unit" >/dev/null || fail "unit lacks Restart=on-failure"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$unit" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "systemd-analyze verify"; }
  # The check is not blind: a unit with a relative ExecStart is rejected.
  sed 's|^ExecStart=/usr/bin/java|ExecStart=java-nowhere|' "$unit" >"$T/broken.service"
  if systemd-analyze verify "$T/broken.service" >/dev/null 2>&1; then fail "systemd-analyze accepted a broken unit"; fi
  info "systemd-analyze verify: ok"
else
  info "systemd-analyze not installed: unit not verified"
fi

# ---- 2. the unit's command lines, as systemd would run them
step "run the unit's ExecStart (socket $SOCK)"
printf 'LCOW_OPTS="lcow.sandboxsize=21"\nJAVA_OPTS="-Xmx256m"\n' >"$D/etc/default/lcow"
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
exec_post="$(sed -n 's/^ExecStartPost=//p' "$unit")"
map() {  # unit paths -> staging paths, private socket and data root
  sed -e "s|/opt/lcow/|$D/opt/lcow/|g" -e "s|/run/docker/plugins/lcow.sock|$SOCK|g" -e "s|/var/lib/lcow|$T/data|g"
}
exec_start="$(map <<<"$exec_start")"
exec_post="$(map <<<"$exec_post")"
# systemd semantics: Environment= defaults, then EnvironmentFile=, then "$VAR" expands to words.
(
  set -a
  LCOW_OPTS="" JAVA_OPTS=""
  # shellcheck disable=SC1091
  . "$D/etc/default/lcow"
  set +a
  # shellcheck disable=SC2086
  exec ${exec_start//\$JAVA_OPTS/$JAVA_OPTS}
) >"$T/service.log" 2>&1 &
PLUGIN_PID=$!
PLUGIN_SOCK="$SOCK"
start=$(date +%s%N)
eval "$exec_post" || fail "ExecStartPost did not see the socket"
info "ExecStartPost saw the socket after $(( ($(date +%s%N) - start) / 1000000 )) ms"
[[ "$(curl -sf --unix-socket "$SOCK" -X POST http://x/Plugin.Activate)" == '{"Implements":["GraphDriver"]}' ]] \
  || fail "Activate"
grep -F 'options [lcow.sandboxsize=21]' "$T/service.log" >/dev/null || fail "LCOW_OPTS from /etc/default/lcow not applied"

step "dockerd -s $NAME through the host service"
dockerd_start "$T" "$NAME"
# A legacy plugin's Init home is <docker data-root>/<name>: the driver's layer store appears there.
[[ -d "$T/root/$NAME/mnt" ]] || fail "no layer store at $T/root/$NAME (Init home)"
grep -q "Initialized graph driver $NAME" "$T/dockerd.log" || fail "dockerd did not initialise $NAME"
if command -v busybox >/dev/null; then
  mkdir -p "$T/bb/bin"
  cp "$(command -v busybox)" "$T/bb/bin/busybox"
  ln -s busybox "$T/bb/bin/sh"
  ln -s busybox "$T/bb/bin/echo"
  tar -C "$T/bb" -cf "$T/bb.tar" .
  dk import "$T/bb.tar" hs:test >/dev/null || fail "docker import"
  [[ "$(dk run --rm --network none hs:test echo via-host-service)" == via-host-service ]] || fail "docker run"
  dk rmi hs:test >/dev/null || fail "docker rmi"
  info "import, run, rmi through the host service: ok"
fi
dockerd_stop
[[ "$DOCKERD_RC" == 0 ]] || fail "dockerd exited with $DOCKERD_RC"

step "SIGTERM ends the service cleanly"
stop_pid "$PLUGIN_PID"
PLUGIN_PID=""
[[ "$STOP_RC" == 0 ]] || fail "service exited with $STOP_RC on SIGTERM, expected 0"
[[ ! -e "$SOCK" ]] || fail "socket $SOCK left behind"
[[ -z "$(awk -v p="$T/" 'index($5, p) == 1' /proc/self/mountinfo)" ]] || fail "mounts left under $T"

# ---- 3. reinstall and uninstall
step "reinstall keeps settings; uninstall; purge"
echo '# edited' >>"$D/etc/default/lcow"
"$here/plugin/install-host-service" --destdir "$D" >/dev/null 2>&1 || fail "reinstall"
grep -x '# edited' "$D/etc/default/lcow" >/dev/null || fail "reinstall overwrote /etc/default/lcow"
mkdir -p "$D/var/lib/lcow/layer"
"$here/plugin/install-host-service" --destdir "$D" --uninstall >/dev/null 2>&1 || fail "uninstall"
[[ ! -e "$unit" && ! -e "$D/opt/lcow" ]] || fail "uninstall left the unit or /opt/lcow"
[[ -f "$D/etc/default/lcow" && -d "$D/var/lib/lcow/layer" ]] || fail "uninstall removed settings or data"
"$here/plugin/install-host-service" --destdir "$D" --uninstall --purge >/dev/null 2>&1 || fail "purge"
[[ ! -e "$D/etc/default/lcow" && ! -e "$D/var/lib/lcow" ]] || fail "purge left settings or data"
echo "OK: host service installs, runs under dockerd, stops cleanly, uninstalls"
