#!/usr/bin/env bash
# Sandbox benchmark: time to make a 20 GB sandbox template from nothing, then time and new disk space per clone for
# 100 sandboxes cloned in a row from the cached template. Prints figures (no pass/fail).
#   scripts/bench-sandbox.sh [WORKDIR] [CLONES] [TEMPLATES]
# WORKDIR (default /var/tmp/lcow-bench-sandbox) decides the filesystem measured; it is created and removed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-/var/tmp/lcow-bench-sandbox}"
clones="${2:-100}"
templates="${3:-5}"
"$here/scripts/lcow" --help >/dev/null # builds the jar when needed
mkdir -p "$work"
echo "filesystem: $(df -T "$work" | awk 'NR==2 {print $2 " on " $1}'); kernel $(uname -r); $(nproc) cores"
echo "mke2fs: $(mke2fs -V 2>&1 | head -1)"
exec java -XX:+UseSerialGC -cp "$here/target/lcow-graphdriver.jar" io.lcowgd.sandbox.SandboxBench "$work" "$clones" "$templates"
