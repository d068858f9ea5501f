#!/usr/bin/env bash
# Start-up benchmark of the managed plugin: on a private dockerd (vfs), creates the plugin from target/plugin (run
# plugin/build first) and enables/disables it N times, measuring the time from `docker plugin enable` to the plugin
# socket answering Plugin.Activate, and how long the enable command itself took. A second plugin made from a copy of
# the package whose entrypoint says -Xshare:off (no class-data sharing) is measured in alternation, for comparison.
# Usage: scripts/bench-managed-plugin.sh [N]   (default 5; root, dockerd 20.10, curl)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-5}"
DOCKER=/usr/bin/docker
pkg="$here/target/plugin"
[[ -f "$pkg/config.json" ]] || { echo "run plugin/build first" >&2; exit 1; }
T="$(mktemp -d "${TMPDIR:-/tmp}/lcow-bench-managed.XXXXXX")"
NAME="lcowb$$"
dk() { "$DOCKER" -H "unix://$T/docker.sock" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
DPID=""
cleanup() {
  set +e
  if [[ -n "$DPID" ]]; then
    for p in "$NAME" "$NAME-nocds"; do
      dk plugin disable -f "$p" >/dev/null 2>&1
      dk plugin rm -f "$p" >/dev/null 2>&1
    done
    kill -TERM "$DPID"; wait "$DPID"
  fi
  for m in $(awk -v p="$T/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  rm -rf "$T"
}
trap cleanup EXIT
dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none --storage-driver vfs \
  --data-root "$T/root" --exec-root "$T/exec" -H "unix://$T/docker.sock" --pidfile "$T/docker.pid" \
  >"$T/dockerd.log" 2>&1 &
DPID=$!
for _ in $(seq 600); do dk version >/dev/null 2>&1 && break; sleep 0.05; done
mkdir -p "$T/nocds"
cp -a "$pkg/rootfs" "$T/nocds/rootfs"
touch "$T/nocds/rootfs/.nocds"   # identical rootfs content would make `plugin create` fail ("already exists")
sed 's/"-Xshare:auto"/"-Xshare:off"/' "$pkg/config.json" >"$T/nocds/config.json"
grep -F '"-Xshare:off"' "$T/nocds/config.json" >/dev/null || { echo "no -Xshare:auto in the entrypoint" >&2; exit 1; }
dk plugin create "$NAME" "$pkg" >/dev/null
dk plugin create "$NAME-nocds" "$T/nocds" >/dev/null

cycle() {  # $1 plugin name
  local start answered done_ms sock
  sock="/run/docker/plugins/$(dk plugin inspect -f '{{.Id}}' "$1")/lcow.sock"
  start=$(now_ms)
  dk plugin enable "$1" >/dev/null &
  local epid=$!
  answered=""
  for _ in $(seq 1500); do
    if curl -sf --max-time 2 --unix-socket "$sock" -X POST http://x/Plugin.Activate >/dev/null 2>&1; then
      answered=$(now_ms); break
    fi
    sleep 0.01
  done
  wait "$epid"
  done_ms=$(now_ms)
  echo "$((answered - start)) $((done_ms - start))"
  dk plugin disable "$1" >/dev/null
}
report() {  # label, then lines "socket_ms enable_ms"
  local label="$1"
  sort -n | awk -v l="$label" '{s[NR] = $1; e[NR] = $2; ts += $1; te += $2}
    END {printf "%-22s socket answering: min %d median %d max %d mean %d ms | enable command: mean %d ms (n=%d)\n",
         l, s[1], s[int((NR + 1) / 2)], s[NR], ts / NR, te / NR, NR}'
}
for _ in $(seq "$n"); do
  cycle "$NAME" >>"$T/cds.txt"
  cycle "$NAME-nocds" >>"$T/nocds.txt"
done
report "with CDS archive" <"$T/cds.txt"
report "-Xshare:off" <"$T/nocds.txt"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); rootfs $(du -sm "$pkg/rootfs" | cut -f1) MiB"
