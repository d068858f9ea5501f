#!/usr/bin/env bash
# The dockerd scenario subset with the plugin started with --opt lcow.svm=uml (User-mode Linux guests, issue 7), in
# safe mode and in global mode: import, run a container that writes and deletes files, docker diff, commit (its Diff
# runs in a UML guest: checked through the "Guest VMs" Status line), run the committed image, rm, rmi. The guest is
# built with scripts/build-uvm into the scratch directory (--opt lcow.kirdpath=DIR). After each mode: no mounts, no
# loop devices and no linux.uml process of the plugin left. Skips (exit 0) when /usr/bin/linux.uml is missing.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

if [[ ! -x /usr/bin/linux.uml ]]; then
  echo "55-dockerd-uml: /usr/bin/linux.uml missing (apt-get install user-mode-linux), skipped" >&2
  exit 0
fi
e2e_init dockerd-uml

BB_TAR="$(busybox_tar)"
step "build the jar and the UML guest"
lcow_build
run_ok "$LCOW_REPO/scripts/build-uvm" "$E2E_T/uvm" >/dev/null
info "guest: $(ls "$E2E_T/uvm" | tr '\n' ' ')"

# guest_line: the "Guest VMs" Status line of the running dockerd's driver.
guest_line() {
  dk info -f '{{json .DriverStatus}}' | "$PY" -c '
import json, sys
for k, v in json.load(sys.stdin):
    if k == "Guest VMs":
        print(v)'
}

# uml_of PID: linux.uml processes whose umid carries the plugin JVM pid PID.
uml_of() {
  pgrep -af linux.uml | grep -F "umid=lcow-$1-" || true
}

for mode in false true; do
  label=$([[ $mode == true ]] && echo global || echo safe)
  step "$label mode: start the plugin with lcow.svm=uml, lcow.globalmode=$mode"
  DRIVER="lcowuml$$$label"
  D="$E2E_T/d-$label"
  plugin_start "$DRIVER" "$E2E_T/root-$label" --opt lcow.svm=uml --opt "lcow.kirdpath=$E2E_T/uvm" \
    --opt "lcow.globalmode=$mode"
  jvm="$PLUGIN_PID"
  dockerd_start "$D" "$DRIVER"
  line="$(guest_line)"
  info "Guest VMs: $line"
  [[ "$line" == "uml, 0 running, "* ]] || fail "Guest VMs status is '$line' before any commit"
  done_before="$(sed -E 's/^uml, [0-9]+ running, ([0-9]+) .*/\1/' <<< "$line")"

  run_ok dk import "$BB_TAR" bb:uml >/dev/null
  run_ok dk run --network none --name c1 bb:uml sh -c 'echo data > /tmp/newfile; rm /etc/group; mkdir /newdir; rm -rf /root; mkdir /root; echo h > /root/h' >/dev/null
  out="$(run_ok dk diff c1 | sort)"
  info "docker diff c1: $(oneline "$out")"
  grep -qx 'D /etc/group' <<< "$out" || fail "docker diff c1 lacks 'D /etc/group': $(oneline "$out")"
  grep -qx 'A /tmp/newfile' <<< "$out" || fail "docker diff c1 lacks 'A /tmp/newfile': $(oneline "$out")"

  step "$label mode: commit (Diff in a UML guest) and run the committed image"
  run_ok dk commit c1 bb:umlc >/dev/null
  line="$(guest_line)"
  info "Guest VMs after commit: $line"
  done_after="$(sed -E 's/^uml, [0-9]+ running, ([0-9]+) .*/\1/' <<< "$line")"
  (( done_after > done_before )) || fail "the commit's Diff did not run in a guest ($line)"
  if [[ $mode == true ]]; then
    [[ "$line" == "uml, 1 running, "* ]] || fail "global mode: expected the shared guest to stay up: $line"
    [[ -n "$(uml_of "$jvm")" ]] || fail "global mode: no linux.uml with umid lcow-$jvm-* found (leak check would be vacuous)"
    info "shared guest: $(uml_of "$jvm" | head -1 | grep -oE 'umid=[^ ]+')"
  else
    [[ "$line" == "uml, 0 running, "* ]] || fail "safe mode: the commit's guest was not terminated: $line"
  fi
  out="$(run_ok dk run --rm --network none bb:umlc sh -c 'cat /tmp/newfile; [ -e /etc/group ] || echo nogroup; [ -d /newdir ] && echo newdir; ls /root')"
  assert_eq "output of run bb:umlc" "data
nogroup
newdir
h" "$out"
  run_ok dk save -o "$E2E_T/saved-$label.tar" bb:umlc >/dev/null
  mkdir "$E2E_T/saved-$label"
  tar -C "$E2E_T/saved-$label" -xf "$E2E_T/saved-$label.tar"
  top="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Layers"][-1])' "$E2E_T/saved-$label/manifest.json")"
  entries="$(tar -tf "$E2E_T/saved-$label/$top" | sort | tr '\n' ' ')"
  info "commit layer: $entries"
  for e in etc/.wh.group newdir/ tmp/newfile root/.wh..wh..opq root/h; do
    [[ " $entries " == *" $e "* ]] || fail "commit layer lacks $e: $entries"
  done

  step "$label mode: rm, rmi, stop; no leaks and no guest left"
  run_ok dk rm c1 >/dev/null
  run_ok dk rmi bb:umlc bb:uml >/dev/null
  dockerd_stop
  plugin_stop
  left="$(uml_of "$jvm")"
  [[ -z "$left" ]] || fail "linux.uml processes of plugin $jvm left: $left"
  check_no_leaks "$E2E_T"
  info "$label mode: no linux.uml process of plugin $jvm left"
done

step "done: dockerd scenario subset passed with lcow.svm=uml (safe and global)"
