#!/usr/bin/env bash
# Changes/DiffSize of a sandbox with 2000 small files + a 100 MB file: host (LayerChanges on the image) vs the UML
# guest (lcow.svm=uml; global mode with the guest running, safe mode booting a guest per call).
# Usage: scripts/bench-changes.sh [WORK_DIR] [RUNS]   (root; builds the guest with scripts/build-uvm)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mkdir -p "${1:-$here/bench-out/changes}" && cd "${1:-$here/bench-out/changes}" && pwd)"
runs="${2:-5}"
cd "$here"
mvn -q -B -ntp -o test-compile
mvn -q -B -ntp -o dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
"$here/scripts/build-uvm" "$work/uvm" >/dev/null
java -cp "target/classes:target/test-classes:$(cat "$work/cp.txt")" io.lcowgd.lcow.GuestChangesBench "$work" \
  "$work/uvm" "$runs"
