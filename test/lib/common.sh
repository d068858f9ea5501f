# shellcheck shell=bash
# Helpers for the end-to-end scripts (sourced, never run): a scratch directory cleaned up on exit, a busybox image tar,
# a private dockerd, the plugin as a legacy plugin (unix socket or TCP + spec file), and leak/e2fsck checks.
#
# Everything a script creates lives under one scratch directory $E2E_T (mktemp under ${TMPDIR:-/tmp}); an EXIT trap
# stops what was started (dockerd, plugin), removes spec files, unmounts whatever is still mounted under $E2E_T, detaches
# loop devices whose backing file is under $E2E_T, and deletes it (kept when LCOW_E2E_KEEP=1).
#
# Environment:
#   LCOW_E2E_CACHE   cache directory for built test images (default /var/cache/lcow-e2e)
#   LCOW_E2E_KEEP=1  keep the scratch directory (logs, data roots) after the run
#   TMPDIR           where the scratch directory is made
#   LCOW_E2E_SERVE   command that serves a plugin instead of `scripts/lcow serve` (same arguments; for debugging the
#                    harness against another plugin implementation; layout checks are skipped unless the command
#                    contains "scripts/lcow", e.g. another checkout's launcher)
#
# Only /usr/bin/docker (the 20.10 client matching Debian's dockerd) is used; a newer client may be first on PATH.

LCOW_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DOCKER_CLI=/usr/bin/docker
PY=/usr/bin/python3      # the system python (a pyenv shim first on PATH costs 0.3 s per call)
[[ -x "$PY" ]] || PY=python3
E2E_CACHE="${LCOW_E2E_CACHE:-/var/cache/lcow-e2e}"
PLUGIN_DIR=/run/docker/plugins
SPEC_DIR=/etc/docker/plugins

E2E_T=""               # scratch directory of this run
E2E_STEP=""            # current step, for failure messages
E2E_SPECS=()           # spec files this run wrote
DOCKERD_DIR=""         # directory of the running dockerd (root/, exec/, docker.sock, docker.pid, dockerd.log)
DOCKERD_PID=""
DOCKERD_RC=""          # exit status of the last dockerd_stop
PLUGIN_PID=""
PLUGIN_NAME=""
PLUGIN_SOCK=""
PLUGIN_LOG=""
PLUGIN_URL=""          # curl base URL (http://x over the unix socket, or http://HOST:PORT)

# ---------------------------------------------------------------------------------------------------------------------
# Logging and failure

# The lines of $1 joined by spaces (for one-line log messages).
oneline() {
  tr '\n' ' ' <<< "$1" | sed 's/ *$//'
}

step() {
  E2E_STEP="$*"
  printf '[%s] == %s\n' "$(date +%H:%M:%S)" "$*"
}

info() {
  printf '    %s\n' "$*"
}

# Prints the last 40 lines of the dockerd and plugin logs (the context of a failure) to stderr.
e2e_context() {
  local n=40
  if [[ -n "$DOCKERD_DIR" && -f "$DOCKERD_DIR/dockerd.log" ]]; then
    echo "---- dockerd log tail ($DOCKERD_DIR/dockerd.log)" >&2
    tail -n "$n" "$DOCKERD_DIR/dockerd.log" >&2 || true
  fi
  if [[ -n "$PLUGIN_LOG" && -f "$PLUGIN_LOG" ]]; then
    echo "---- plugin log tail ($PLUGIN_LOG)" >&2
    tail -n "$n" "$PLUGIN_LOG" >&2 || true
  fi
}

# Fails the run: message, current step, log tails; the EXIT trap cleans up.
fail() {
  echo "FAIL [${E2E_STEP:-setup}]: $*" >&2
  e2e_context
  exit 1
}

# Asserts that two strings are equal; on failure shows both and a diff.
assert_eq() {
  local what="$1" expected="$2" actual="$3"
  if [[ "$expected" != "$actual" ]]; then
    echo "---- expected $what:" >&2
    printf '%s\n' "$expected" >&2
    echo "---- actual $what:" >&2
    printf '%s\n' "$actual" >&2
    echo "---- diff (expected vs actual):" >&2
    diff <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    fail "$what differs"
  fi
}

# Runs a command; on failure shows its output and fails. Prints the command's stdout.
run_ok() {
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [[ $rc != 0 ]]; then
    printf '%s\n' "$out" >&2
    fail "command failed (exit $rc): $*"
  fi
  printf '%s\n' "$out"
}

# Seconds since $1 (a `date +%s.%N` value), with one decimal.
elapsed() {
  "$PY" -c 'import sys, time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$1"
}

# ---------------------------------------------------------------------------------------------------------------------
# Scratch directory and cleanup

# e2e_init NAME: makes the scratch directory and installs the cleanup trap. Must be root.
e2e_init() {
  [[ "$(id -u)" == 0 ]] || { echo "$0: run as root (dockerd, loop devices, mounts)" >&2; exit 2; }
  [[ -x "$DOCKER_CLI" ]] || { echo "$0: $DOCKER_CLI missing (apt-get install docker.io)" >&2; exit 2; }
  E2E_T="$(mktemp -d "${TMPDIR:-/tmp}/lcow-e2e-$1.XXXXXX")"
  chmod 0755 "$E2E_T"
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
  info "scratch directory $E2E_T"
}

# Mount points (deepest first) of every mount whose mountinfo line names a path under DIR (mount point, source or
# overlay options).
mounts_under() {
  local dir="$1"
  # field 5 is the mount point; octal escapes (\040) only occur for unusual names, which our paths never contain
  grep -F "$dir/" /proc/self/mountinfo | awk '{print $5}' | sort -r -u || true
}

# Loop devices whose backing file is under DIR, one "DEVICE FILE" per line.
loops_under() {
  local dir="$1"
  losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v d="$dir/" 'index($2, d) == 1 {print $1, $2}' || true
}

# Undoes everything under DIR that is still mounted or attached (best effort, for clean-up paths).
release_under() {
  local dir="$1" m dev f i
  for i in 1 2 3; do
    while read -r m; do
      [[ -n "$m" ]] || continue
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under "$dir")
    [[ -z "$(mounts_under "$dir")" ]] && break
  done
  while read -r dev f; do
    if [[ -n "$dev" ]]; then losetup -d "$dev" 2>/dev/null || true; fi
  done < <(loops_under "$dir")
}

e2e_cleanup() {
  local rc=$?
  set +e
  trap - EXIT
  if [[ -n "$DOCKERD_PID" ]]; then dockerd_stop quiet; fi
  if [[ -n "$PLUGIN_PID" ]]; then plugin_stop quiet; fi
  local s
  for s in "${E2E_SPECS[@]}"; do rm -f "$s"; done
  if [[ -n "$E2E_T" && -d "$E2E_T" ]]; then
    release_under "$E2E_T"
    if [[ "${LCOW_E2E_KEEP:-0}" == 1 || ( $rc != 0 && "${LCOW_E2E_KEEP_ON_FAIL:-0}" == 1 ) ]]; then
      echo "kept $E2E_T" >&2
    elif [[ -z "$(mounts_under "$E2E_T")" ]]; then
      rm -rf "$E2E_T"
    else
      echo "not deleting $E2E_T: still mounted" >&2
    fi
  fi
  exit $rc
}

# ---------------------------------------------------------------------------------------------------------------------
# Busybox image

# Prints the path of a busybox image tar made from busybox-static (cached under $E2E_CACHE): bin/busybox, one symlink
# per applet, etc/passwd, etc/group, empty tmp proc sys dev root. Deterministic (sorted names, fixed mtime, root owner).
busybox_tar() {
  local ver out d a
  [[ -x /bin/busybox ]] || fail "/bin/busybox missing (apt-get install busybox-static)"
  ver="$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || busybox | head -1 | awk '{print $2}')"
  out="$E2E_CACHE/busybox-${ver//[^A-Za-z0-9.+-]/_}.tar"
  if [[ ! -s "$out" ]]; then
    mkdir -p "$E2E_CACHE"
    d="$(mktemp -d "$E2E_CACHE/bbroot.XXXXXX")"
    mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root}
    cp /bin/busybox "$d/bin/busybox"
    for a in $(/bin/busybox --list-full); do
      [[ "$a" == bin/busybox ]] && continue
      ln -sf /bin/busybox "$d/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$d/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
    chmod 1777 "$d/tmp"
    chmod 0700 "$d/root"
    tar --sort=name --mtime=@1700000000 --owner=0 --group=0 --numeric-owner -C "$d" -cf "$out.tmp" .
    mv "$out.tmp" "$out"
    rm -rf "$d"
  fi
  printf '%s\n' "$out"
}

# ---------------------------------------------------------------------------------------------------------------------
# dockerd

# The 20.10 CLI talking to the running private dockerd.
dk() {
  "$DOCKER_CLI" -H "unix://$DOCKERD_DIR/docker.sock" "$@"
}

# dockerd_start DIR DRIVER [dockerd args...]: starts a private dockerd (data root DIR/root, exec root DIR/exec, socket
# DIR/docker.sock, log DIR/dockerd.log; no iptables, no bridge, --experimental) with storage driver DRIVER and waits
# until `docker info` answers (fails with the log tail if it does not, or if dockerd exits).
dockerd_start() {
  local dir="$1" driver="$2" i t0
  shift 2
  t0="$(date +%s.%N)"
  [[ -z "$DOCKERD_PID" ]] || fail "dockerd_start: a dockerd is already running (pid $DOCKERD_PID)"
  DOCKERD_DIR="$dir"
  mkdir -p "$dir/root" "$dir/exec"
  rm -f "$dir/docker.pid" "$dir/docker.sock"
  echo "---- dockerd start $(date +%T) -s $driver $*" >> "$dir/dockerd.log"
  /usr/sbin/dockerd --experimental --debug \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --data-root "$dir/root" --exec-root "$dir/exec" \
    -H "unix://$dir/docker.sock" --pidfile "$dir/docker.pid" \
    --storage-driver "$driver" "$@" >> "$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      wait "$DOCKERD_PID" 2>/dev/null
      DOCKERD_PID=""
      release_dockerd_mounts "$dir"
      fail "dockerd -s $driver exited during start-up"
    fi
    if dk version >/dev/null 2>&1; then
      local got
      got="$(dk info -f '{{.Driver}}' 2>/dev/null)"
      [[ "$got" == "$driver" ]] || fail "dockerd reports storage driver '$got', expected '$driver'"
      info "dockerd pid $DOCKERD_PID up after $(elapsed "$t0") s (driver $driver)"
      return 0
    fi
    sleep 0.1
  done
  fail "dockerd -s $driver did not answer within 60 s"
}

# dockerd_expect_failure DIR DRIVER PATTERN [dockerd args...]: runs a private dockerd that must fail to start (within
# 60 s) with PATTERN (grep -E) in its log.
dockerd_expect_failure() {
  local dir="$1" driver="$2" pattern="$3" rc=0
  shift 3
  mkdir -p "$dir/root" "$dir/exec"
  timeout 60 /usr/sbin/dockerd --experimental \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
    --data-root "$dir/root" --exec-root "$dir/exec" \
    -H "unix://$dir/docker.sock" --pidfile "$dir/docker.pid" \
    --storage-driver "$driver" "$@" > "$dir/dockerd.log" 2>&1 || rc=$?
  release_dockerd_mounts "$dir"
  if [[ $rc == 0 || $rc == 124 ]]; then
    tail -n 20 "$dir/dockerd.log" >&2
    fail "dockerd -s $driver $* did not fail to start (exit $rc)"
  fi
  grep -E -q "$pattern" "$dir/dockerd.log" || { tail -n 20 "$dir/dockerd.log" >&2; fail "dockerd log lacks /$pattern/"; }
  info "dockerd -s $driver $* failed as expected: $(grep -E -o ".{0,60}$pattern.{0,40}" "$dir/dockerd.log" | head -1)"
}

# Unmounts what dockerd itself may leave behind (a bind mount of its data root after a failed start; anything under its
# exec root). Mounts under the data root's driver home are not touched here: they would be the driver's leaks.
release_dockerd_mounts() {
  local dir="$1" m
  while read -r m; do
    [[ -n "$m" ]] || continue
    if [[ "$m" == "$dir/root" || "$m" == "$dir/exec"* ]]; then
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done < <(mounts_under "$dir")
}

# dockerd_stop [quiet]: SIGTERM, wait (up to 30 s, then SIGKILL), then release dockerd's own leftover mounts. Sets
# DOCKERD_RC to dockerd's exit status.
dockerd_stop() {
  local quiet="${1:-}" i pid="$DOCKERD_PID"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "dockerd pid $pid did not stop within 30 s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  DOCKERD_RC=0
  wait "$pid" 2>/dev/null || DOCKERD_RC=$?
  DOCKERD_PID=""
  release_dockerd_mounts "$DOCKERD_DIR"
  [[ "$quiet" == quiet ]] || info "dockerd stopped after $((i / 10)).$((i % 10)) s"
}

# ---------------------------------------------------------------------------------------------------------------------
# The plugin

# Builds the jar if missing or stale (so that plugin start-up timing does not include a Maven build).
lcow_build() {
  local serve
  read -r -a serve <<< "${LCOW_E2E_SERVE:-$LCOW_REPO/scripts/lcow serve}"
  [[ "${serve[0]}" == */scripts/lcow ]] || return 0
  "${serve[0]}" --help >/dev/null || fail "${serve[0]} could not build or run the jar"
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# plugin_curl ENDPOINT [curl args...]: POST to the running plugin; prints the body followed by a line "HTTP <code>".
plugin_curl() {
  local ep="$1"
  shift
  if [[ -n "$PLUGIN_SOCK" ]]; then
    curl -sS --max-time 120 --unix-socket "$PLUGIN_SOCK" -X POST -w '\nHTTP %{http_code}\n' "http://x/$ep" "$@"
  else
    curl -sS --max-time 120 -X POST -w '\nHTTP %{http_code}\n' "$PLUGIN_URL/$ep" "$@"
  fi
}

# plugin_start NAME ROOT [serve args...]: starts `scripts/lcow serve --root ROOT --socket /run/docker/plugins/NAME.sock`
# (log ROOT/../plugin-NAME.log) and waits until Plugin.Activate answers with GraphDriver.
plugin_start() {
  local name="$1" root="$2"
  shift 2
  plugin_launch "$name" "$root" "$PLUGIN_DIR/$name.sock" "" "$@"
}

# plugin_start_tcp NAME ROOT PORT [serve args...]: serves on 127.0.0.1:PORT only (--no-socket), and lets the plugin
# write /etc/docker/plugins/NAME.spec (--write-spec), which is checked to hold tcp://127.0.0.1:PORT.
plugin_start_tcp() {
  local name="$1" root="$2" port="$3" spec
  shift 3
  spec="$SPEC_DIR/$name.spec"
  [[ ! -e "$PLUGIN_DIR/$name.sock" ]] || fail "$PLUGIN_DIR/$name.sock exists; the TCP run needs a name without socket"
  [[ ! -e "$spec" ]] || fail "$spec exists already"
  E2E_SPECS+=("$spec")
  plugin_launch "$name" "$root" "" "127.0.0.1:$port" --name "$name" --no-socket --tcp "127.0.0.1:$port" --write-spec "$@"
  [[ "$(cat "$spec" 2>/dev/null)" == "tcp://127.0.0.1:$port" ]] \
    || fail "spec file $spec holds '$(cat "$spec" 2>/dev/null)', expected tcp://127.0.0.1:$port"
  [[ ! -e "$PLUGIN_DIR/$name.sock" ]] || fail "serve --no-socket created $PLUGIN_DIR/$name.sock"
  info "spec file $spec: $(cat "$spec")"
}

plugin_launch() {
  local name="$1" root="$2" sock="$3" tcp="$4" i out t0
  shift 4
  t0="$(date +%s.%N)"
  [[ -z "$PLUGIN_PID" ]] || fail "plugin_start: a plugin is already running (pid $PLUGIN_PID)"
  mkdir -p "$PLUGIN_DIR" "$root"
  PLUGIN_NAME="$name"
  PLUGIN_LOG="$(dirname "$root")/plugin-$name.log"
  if [[ -n "$tcp" ]]; then PLUGIN_SOCK=""; PLUGIN_URL="http://$tcp"; else PLUGIN_SOCK="$sock"; PLUGIN_URL="http://x"; fi
  local serve sockargs=()
  [[ -z "$sock" ]] || sockargs=(--socket "$sock")
  read -r -a serve <<< "${LCOW_E2E_SERVE:-$LCOW_REPO/scripts/lcow serve}"
  echo "---- plugin start $(date +%T): ${serve[*]} --root $root ${sockargs[*]} $*" >> "$PLUGIN_LOG"
  "${serve[@]}" --root "$root" "${sockargs[@]}" "$@" >> "$PLUGIN_LOG" 2>&1 &
  PLUGIN_PID=$!
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$PLUGIN_PID" 2>/dev/null; then
      wait "$PLUGIN_PID" 2>/dev/null
      PLUGIN_PID=""
      fail "plugin $name exited during start-up"
    fi
    if [[ -n "$tcp" || -S "$sock" ]]; then
      out="$(plugin_curl Plugin.Activate 2>/dev/null || true)"
      if [[ "$out" == *GraphDriver*"HTTP 200" ]]; then
        info "plugin $name pid $PLUGIN_PID answers Activate after $(elapsed "$t0") s ($PLUGIN_URL${PLUGIN_SOCK:+ on $PLUGIN_SOCK})"
        return 0
      fi
    fi
    sleep 0.1
  done
  fail "plugin $name did not answer Plugin.Activate within 30 s"
}

# plugin_stop [quiet]: SIGTERM, wait up to 20 s (fails if it does not exit, or exits non-zero), then checks that the
# socket file is gone.
plugin_stop() {
  local quiet="${1:-}" i pid="$PLUGIN_PID" rc=0
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    PLUGIN_PID=""
    [[ "$quiet" == quiet ]] && return 0
    fail "plugin $PLUGIN_NAME (pid $pid) did not exit within 20 s of SIGTERM"
  fi
  wait "$pid" 2>/dev/null || rc=$?
  PLUGIN_PID=""
  [[ "$quiet" == quiet ]] && { [[ -z "$PLUGIN_SOCK" ]] || rm -f "$PLUGIN_SOCK"; return 0; }
  # 143 = killed by SIGTERM without a handler; a JVM with shutdown hooks exits 143 too
  [[ $rc == 0 || $rc == 143 ]] || fail "plugin $PLUGIN_NAME exited with status $rc after SIGTERM"
  if [[ -n "$PLUGIN_SOCK" && -e "$PLUGIN_SOCK" ]]; then
    rm -f "$PLUGIN_SOCK"
    fail "plugin $PLUGIN_NAME left its socket $PLUGIN_SOCK behind after SIGTERM"
  fi
  if [[ -z "$PLUGIN_SOCK" && -e "$SPEC_DIR/$PLUGIN_NAME.spec" ]]; then
    rm -f "$SPEC_DIR/$PLUGIN_NAME.spec"
    fail "plugin $PLUGIN_NAME left its spec file $SPEC_DIR/$PLUGIN_NAME.spec behind after SIGTERM"
  fi
  info "plugin $PLUGIN_NAME stopped after $((i / 10)).$((i % 10)) s (exit $rc), $([[ -n "$PLUGIN_SOCK" ]] && echo socket || echo "spec file") removed"
}

# ---------------------------------------------------------------------------------------------------------------------
# Leak checks and image checks

# check_no_leaks DIR: no mount (mount point, source or overlay layer) and no loop device backed by a file under DIR.
# Loop devices set to auto-clear detach when their last user goes, which the kernel may finish a moment after umount
# returns: allow up to 5 s for that before calling it a leak.
# With a second argument (the directory of a running dockerd), that dockerd's own mounts (its data root bind-mounted on
# itself, anything under its exec root) are not counted.
check_no_leaks() {
  local dir="$1" own="${2:-}" m l i
  for ((i = 0; i < 50; i++)); do
    m="$(mounts_under "$dir")"
    if [[ -n "$own" ]]; then
      m="$(grep -v -x -F -e "$own/root" <<< "$m" | grep -v -F -e "$own/exec/" | grep -v -x -F -e "$own/exec" || true)"
    fi
    l="$(loops_under "$dir")"
    [[ -n "$m" || -n "$l" ]] || break
    sleep 0.1
  done
  (( i == 0 )) || info "(mounts/loop devices under $dir took $((i / 10)).$((i % 10)) s to go)"
  if [[ -n "$m" || -n "$l" ]]; then
    [[ -z "$m" ]] || { echo "---- mounts still present under $dir:" >&2; printf '%s\n' "$m" >&2; grep -F "$dir/" /proc/self/mountinfo >&2; }
    if [[ -n "$l" ]]; then
      echo "---- loop devices still attached to files under $dir:" >&2
      printf '%s\n' "$l" >&2
      if [[ -n "$PLUGIN_PID" ]]; then
        echo "---- descriptors the plugin (pid $PLUGIN_PID and children) holds on them:" >&2
        local p fd target
        for p in $PLUGIN_PID $(pgrep -P "$PLUGIN_PID" || true); do
          for fd in /proc/"$p"/fd/*; do
            target="$(readlink "$fd" 2>/dev/null || true)"
            if [[ -n "$target" ]] && grep -q -x -F -e "$target" < <(awk '{print $1}' <<< "$l"); then
              echo "pid $p: fd ${fd##*/} -> $target" >&2
            fi
          done
        done
      fi
    fi
    fail "leaked mounts or loop devices under $dir"
  fi
  info "no mounts and no loop devices left under $dir"
}

# fsck_vhd FILE: e2fsck -fn of the ext4 payload of a fixed VHD (the file minus its 512-byte footer), via a read-only
# loop device limited to that size.
fsck_vhd() {
  local f="$1" size dev rc=0 out
  size="$(stat -c %s "$f")"
  (( size > 512 )) || fail "$f: $size bytes, too small for a VHD"
  [[ "$(tail -c 512 "$f" | head -c 8)" == conectix ]] || fail "$f: no VHD footer (cookie 'conectix') in its last 512 bytes"
  dev="$(losetup -f --show -r --sizelimit "$((size - 512))" "$f")" || fail "$f: losetup failed"
  out="$(e2fsck -fn "$dev" 2>&1)" || rc=$?
  losetup -d "$dev" || true
  if [[ $rc != 0 ]]; then
    printf '%s\n' "$out" | tail -n 30 >&2
    fail "$f: e2fsck -fn exit $rc"
  fi
}

# fsck_vhdx FILE: e2fsck -fn of the virtual disk of a VHDX, located by test/lib/vhdx_payload.py (our own reading of the
# VHDX spec, not the project's code): a read-only loop device over the payload when it is one contiguous run, else a
# sparse raw copy of the present blocks. `qemu-img check` must accept the file too.
fsck_vhdx() {
  local f="$1" raw where kind a b dev rc=0 out
  raw="$E2E_T/fsck-$$.raw"
  out="$(qemu-img check -f vhdx "$f" 2>&1)" || { printf '%s\n' "$out" >&2; fail "$f: qemu-img check -f vhdx failed"; }
  where="$("$PY" "$LCOW_REPO/test/lib/vhdx_payload.py" "$f" "$raw")" || fail "$f: cannot locate the VHDX payload"
  read -r kind a b <<< "$where"
  if [[ "$kind" == LOOP ]]; then
    dev="$(losetup -f --show -r --offset "$a" --sizelimit "$b" "$f")" || fail "$f: losetup failed"
    out="$(e2fsck -fn "$dev" 2>&1)" || rc=$?
    losetup -d "$dev" || true
  else
    out="$(e2fsck -fn "$raw" 2>&1)" || rc=$?
    rm -f "$raw"
  fi
  if [[ $rc != 0 ]]; then
    printf '%s\n' "$out" | tail -n 30 >&2
    fail "$f: e2fsck -fn exit $rc"
  fi
}

# check_images DIR: every *.vhd and *.vhdx under DIR passes e2fsck -fn. Prints how many were checked.
check_images() {
  local dir="$1" f nvhd=0 nvhdx=0
  while IFS= read -r -d '' f; do
    case "$f" in
      *.vhd) fsck_vhd "$f"; nvhd=$((nvhd + 1)) ;;
      *.vhdx) fsck_vhdx "$f"; nvhdx=$((nvhdx + 1)) ;;
    esac
  done < <(find "$dir" -type f \( -name '*.vhd' -o -name '*.vhdx' \) -print0)
  info "e2fsck -fn clean: $nvhd vhd and $nvhdx vhdx images under $dir"
}
