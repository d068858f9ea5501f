#!/usr/bin/env bash
# End-to-end: `scripts/lcow mksandbox` makes a sandbox that qemu-img accepts, that loop-mounts read-write at the
# payload offset it reports, takes files, and passes e2fsck afterwards; a second run reuses the cached template.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d /var/tmp/lcow-e2e-mksandbox.XXXXXX)"
dev=""
cleanup() {
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt"; fi
  if [[ -n "$dev" ]]; then losetup -d "$dev" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export LCOW_CACHE="$work/cache"

out="$("$here/scripts/lcow" mksandbox "$work/a.vhdx")"
echo "$out"
offset="$(sed -n 's/.*ext4 at offset \([0-9]*\), length \([0-9]*\).*/\1/p' <<<"$out")"
length="$(sed -n 's/.*ext4 at offset \([0-9]*\), length \([0-9]*\).*/\2/p' <<<"$out")"
[[ -f "$LCOW_CACHE/sandbox-20g.vhdx" ]]
[[ "$length" == $((20 * 1024 * 1024 * 1024)) ]]
qemu-img check -f vhdx "$work/a.vhdx"
alloc_kb=$(( $(stat -c %b "$work/a.vhdx") / 2 ))
echo "allocated: ${alloc_kb} KB"
(( alloc_kb < 1024 ))

dev="$(losetup --find --show --offset "$offset" --sizelimit "$length" "$work/a.vhdx")"
mkdir "$work/mnt"
mount -o noinit_itable "$dev" "$work/mnt"
mkdir -p "$work/mnt/upper/etc" "$work/mnt/work"
echo hello > "$work/mnt/upper/etc/hello"
umount "$work/mnt"
e2fsck -fn "$dev"
losetup -d "$dev"
dev=""
qemu-img check -f vhdx "$work/a.vhdx"

if "$here/scripts/lcow" mksandbox "$work/a.vhdx" 2>"$work/err"; then
  echo "mksandbox overwrote an existing file" >&2
  exit 1
fi
[[ "$(wc -l <"$work/err")" == 1 ]]
"$here/scripts/lcow" mksandbox "$work/b.vhdx" 20 >/dev/null
echo "mksandbox e2e: ok"
