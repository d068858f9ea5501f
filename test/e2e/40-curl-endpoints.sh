#!/usr/bin/env bash
# Every endpoint of the plugin, driven with curl over its unix socket, without dockerd.
#
# The plugin runs alone (`scripts/lcow serve --root <tmp> --socket <tmp>/gd.sock`). Requests look like dockerd's:
# POST, empty Host header, no Content-Type, Accept: application/vnd.docker.plugins.v1.2+json, JSON bodies ending in a
# newline, ApplyDiff as a chunked raw tar with id/parent in the query. Checked: status codes, exact bodies where they
# are defined (Activate, Capabilities' nested shape, Exists, Size figures, Changes), the files behind Get, the tars out
# of Diff, errors as HTTP 500 + {"Err": "..."}, 404 for unknown paths, nested Get/Put, no mounts or loop devices left
# after the last Put and at the end, every image passing e2fsck -fn, and the socket removed on SIGTERM.
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

e2e_init curl
SOCK="$E2E_T/gd.sock"
HOME_DIR="$E2E_T/home"
R="$E2E_T/resp"     # body of the last response
CODE=""             # status of the last response

# call ENDPOINT [BODY]: POST like dockerd does (BODY gets Go's trailing newline; no BODY = empty body).
call() {
  local ep="$1" args=()
  if [[ $# -ge 2 ]]; then args=(--data-binary "$2"$'\n'); else args=(--data-binary ''); fi
  CODE="$(curl -sS --max-time 300 --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' -H 'Expect:' \
    -H 'Accept: application/vnd.docker.plugins.v1.2+json' "${args[@]}" -o "$R" -w '%{http_code}' "http://x/$ep")" \
    || fail "curl $ep failed"
}

# apply_diff ID PARENT TARFILE: ApplyDiff with the tar sent chunked (-T with Transfer-Encoding: chunked).
apply_diff() {
  CODE="$(curl -sS --max-time 300 --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' -H 'Expect:' \
    -H 'Accept: application/vnd.docker.plugins.v1.2+json' -H 'Transfer-Encoding: chunked' -T "$3" \
    -o "$R" -w '%{http_code}' "http://x/GraphDriver.ApplyDiff?id=$1&parent=$2")" || fail "curl ApplyDiff $1 failed"
}

body() { cat "$R"; }

# expect CODE: the last response has this status, and its body is a JSON object (dockerd rejects empty 200 bodies).
expect() {
  local what="$1" code="$2"
  [[ "$CODE" == "$code" ]] || fail "$what: HTTP $CODE, expected $code; body: $(head -c 2000 "$R")"
  "$PY" -c 'import json, sys; o = json.load(open(sys.argv[1])); assert isinstance(o, dict), o' "$R" 2>/dev/null \
    || fail "$what: body is not a JSON object: '$(head -c 2000 "$R")'"
}

# ok WHAT: HTTP 200, a JSON object, and no non-empty Err.
ok() {
  expect "$1" 200
  [[ -z "$(json 'o.get("Err") or ""')" ]] || fail "$1: 200 with Err: $(body)"
}

# err WHAT [SUBSTRING]: HTTP 500 with a non-empty Err (containing SUBSTRING if given).
err() {
  expect "$1" 500
  local e
  e="$(json 'o.get("Err") or ""')"
  [[ -n "$e" ]] || fail "$1: 500 without Err: $(body)"
  [[ -z "${2:-}" || "$e" == *"$2"* ]] || fail "$1: Err '$e' does not mention '$2'"
  info "$1 -> 500 {\"Err\": \"$e\"}"
}

# json EXPR: evaluates a Python expression over the last response body, bound to `o`.
json() {
  "$PY" -c 'import json, sys; o = json.load(open(sys.argv[1])); r = eval(sys.argv[2]); print(json.dumps(r) if not isinstance(r, str) else r)' "$R" "$1"
}

# A layer-like id (64 lowercase hex digits).
new_id() { "$PY" -c 'import secrets; print(secrets.token_hex(32))'; }

# sorted tar member names without leading ./ and trailing /
tar_names() { tar -tf "$1" | sed -e 's|^\./||' -e 's|/$||' | grep -v '^\.\?$' | sort; }

# ---------------------------------------------------------------------------------------------------------------------
step "start the plugin alone on $SOCK"
lcow_build
plugin_launch "lcowcurl$$" "$E2E_T/root" "$SOCK" ""

step "Plugin.Activate (empty body)"
call Plugin.Activate
ok Activate
assert_eq "Implements" '["GraphDriver"]' "$(json 'o["Implements"]')"

step "GraphDriver.Init"
call GraphDriver.Init "{\"Home\":\"$HOME_DIR\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}"
ok "Init with Opts null"
[[ -d "$HOME_DIR" ]] || fail "Init did not create Home $HOME_DIR"
call GraphDriver.Init "{\"Home\":\"$HOME_DIR\",\"Opts\":[\"lcow.globalmode=true\",\"lcow.sandboxsize=20\",\"lcow.timeout=120\"],\"UIDMaps\":null,\"GIDMaps\":null}"
ok "Init with valid lcow options"
for bad in lcow.nosuchoption=1 lcow.sandboxsize=5 lcow.sandboxsize=big lcow.timeout=-1 lcow.globalmode=perhaps; do
  call GraphDriver.Init "{\"Home\":\"$HOME_DIR\",\"Opts\":[\"$bad\"],\"UIDMaps\":null,\"GIDMaps\":null}"
  err "Init with $bad" "${bad%%=*}"
done
call GraphDriver.Init "{\"Home\":\"$HOME_DIR\",\"Opts\":null,\"UIDMaps\":null,\"GIDMaps\":null}"
ok "Init again (as after a dockerd restart)"

step "GraphDriver.Capabilities (nested) and Status"
call GraphDriver.Capabilities '{}'
ok Capabilities
json 'isinstance(o["Capabilities"], dict) and isinstance(o["Capabilities"]["ReproducesExactDiffs"], bool) or sys.exit("not nested: " + json.dumps(o))' >/dev/null \
  || fail "Capabilities is not {\"Capabilities\":{\"ReproducesExactDiffs\":bool}}: $(body)"
info "Capabilities: $(body)"
call GraphDriver.Capabilities
ok "Capabilities with an empty body"
call GraphDriver.Status '{}'
ok Status
json 'len(o["Status"]) > 0 and all(isinstance(l, list) and len(l) == 2 and all(isinstance(x, str) for x in l) for l in o["Status"]) or sys.exit(1)' >/dev/null \
  || fail "Status is not a non-empty list of [key, value] string pairs: $(body)"
info "Status: $(body)"

step "Create + ApplyDiff of a base layer (chunked upload)"
src1="$E2E_T/src1"
mkdir -p "$src1/a/sub" "$src1/emptydir"
head -c 1000 /dev/urandom > "$src1/a/f1"
printf '%023d' 0 > "$src1/a/f2"
: > "$src1/e"
head -c 70000 /dev/urandom > "$src1/a/sub/big"
ln -s a/f1 "$src1/link"
chmod 0750 "$src1/a/sub"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$src1" -cf "$E2E_T/l1.tar" .
size1=$((1000 + 23 + 0 + 70000))
L1="$(new_id)"
call GraphDriver.Create "{\"ID\":\"$L1\"}"
ok "Create $L1"
apply_diff "$L1" "" "$E2E_T/l1.tar"
ok "ApplyDiff $L1"
assert_eq "ApplyDiff Size (sum of the file sizes)" "$size1" "$(json 'o["Size"]')"

step "Exists"
call GraphDriver.Exists "{\"ID\":\"$L1\"}"
ok Exists
assert_eq "Exists of $L1" "true" "$(json 'o["Exists"]')"
call GraphDriver.Exists "{\"ID\":\"$(new_id)\"}"
ok "Exists (unknown id)"
assert_eq "Exists of an unknown id" "false" "$(json 'o["Exists"]')"

step "Get: the directory holds the files; Put"
call GraphDriver.Get "{\"ID\":\"$L1\"}"
ok Get
dir1="$(json 'o["Dir"]')"
[[ "$dir1" == /* && -d "$dir1" ]] || fail "Get $L1 returned '$dir1', not an existing absolute directory"
diff -r --no-dereference -x lost+found "$src1" "$dir1" >&2 || fail "Get dir $dir1 differs from the applied tree"
[[ "$(readlink "$dir1/link")" == a/f1 ]] || fail "symlink target differs in $dir1"
[[ "$(stat -c %a "$dir1/a/sub")" == 750 ]] || fail "mode of a/sub is $(stat -c %a "$dir1/a/sub"), expected 750"
info "Get $L1 -> $dir1"
call GraphDriver.Put "{\"ID\":\"$L1\"}"
ok Put

step "GetMetadata"
call GraphDriver.GetMetadata "{\"ID\":\"$L1\"}"
ok GetMetadata
json 'isinstance(o["Metadata"], dict) and all(isinstance(v, str) for v in o["Metadata"].values()) or sys.exit(1)' >/dev/null \
  || fail "GetMetadata is not {\"Metadata\":{string: string}}: $(body)"
info "Metadata: $(body)"

step "Diff of the base layer (raw tar), Changes, DiffSize"
curl -sS --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' --data-binary "{\"ID\":\"$L1\"}"$'\n' \
  -o "$E2E_T/d1.tar" -w '%{http_code}' http://x/GraphDriver.Diff > "$E2E_T/code" || fail "curl Diff failed"
[[ "$(cat "$E2E_T/code")" == 200 ]] || fail "Diff $L1: HTTP $(cat "$E2E_T/code"): $(head -c 500 "$E2E_T/d1.tar")"
assert_eq "members of Diff $L1" "$(tar_names "$E2E_T/l1.tar")" "$(tar_names "$E2E_T/d1.tar")"
mkdir "$E2E_T/d1x" && tar -C "$E2E_T/d1x" -xf "$E2E_T/d1.tar"
diff -r --no-dereference "$src1" "$E2E_T/d1x" >&2 || fail "files of Diff $L1 differ from the applied tree"
call GraphDriver.Changes "{\"ID\":\"$L1\"}"
ok Changes
assert_eq "Changes of $L1 (path kind, sorted)" "$(tar_names "$E2E_T/l1.tar" | sed 's|^|/|; s|$| 1|')" \
  "$(json '"\n".join(sorted("%s %d" % (c["Path"], c["Kind"]) for c in o["Changes"]))')"
call GraphDriver.DiffSize "{\"ID\":\"$L1\"}"
ok DiffSize
assert_eq "DiffSize of $L1" "$size1" "$(json 'o["Size"]')"

step "a child layer with whiteouts: ApplyDiff, Get, Changes, Diff, DiffSize"
src2="$E2E_T/src2"
mkdir -p "$src2/a"
head -c 500 /dev/urandom > "$src2/a/f3"
head -c 10 /dev/urandom > "$src2/e"
: > "$src2/a/.wh.f2"
mkdir -p "$src2/a/sub" && : > "$src2/a/sub/.wh..wh..opq" && head -c 4 /dev/urandom > "$src2/a/sub/n"
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$src2" -cf "$E2E_T/l2.tar" a/.wh.f2 a/f3 a/sub a/sub/.wh..wh..opq a/sub/n e
L2="$(new_id)"
call GraphDriver.Create "{\"ID\":\"$L2\",\"Parent\":\"$L1\"}"
ok "Create $L2 on $L1"
apply_diff "$L2" "$L1" "$E2E_T/l2.tar"
ok "ApplyDiff $L2"
assert_eq "ApplyDiff Size of $L2" "514" "$(json 'o["Size"]')"
call GraphDriver.Get "{\"ID\":\"$L2\"}"
ok "Get $L2"
dir2="$(json 'o["Dir"]')"
( cd "$dir2" && find . -mindepth 1 -not -name lost+found | sort ) > "$E2E_T/l2.find"
assert_eq "tree of $L2" "./a
./a/f1
./a/f3
./a/sub
./a/sub/n
./e
./emptydir
./link" "$(cat "$E2E_T/l2.find")"
if ! { cmp "$dir2/a/f3" "$src2/a/f3" && cmp "$dir2/e" "$src2/e" && cmp "$dir2/a/f1" "$src1/a/f1"; }; then
  fail "file contents of $L2 differ"
fi
call GraphDriver.Put "{\"ID\":\"$L2\"}"
ok "Put $L2"
call GraphDriver.Changes "{\"ID\":\"$L2\",\"Parent\":\"$L1\"}"
ok "Changes $L2"
assert_eq "Changes of $L2 (sorted)" "/a 0
/a/f2 2
/a/f3 1
/a/sub 0
/a/sub/big 2
/a/sub/n 1
/e 0" "$(json '"\n".join(sorted("%s %d" % (c["Path"], c["Kind"]) for c in o["Changes"]))')"
call GraphDriver.Changes "{\"ID\":\"$L2\"}"
ok "Changes $L2 (empty Parent = own parent)"
[[ "$(json 'len(o["Changes"])')" == 7 ]] || fail "Changes of $L2 without Parent: $(body)"
call GraphDriver.DiffSize "{\"ID\":\"$L2\",\"Parent\":\"$L1\"}"
ok "DiffSize $L2"
assert_eq "DiffSize of $L2" "514" "$(json 'o["Size"]')"
curl -sS --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' --data-binary "{\"ID\":\"$L2\",\"Parent\":\"$L1\"}"$'\n' \
  -o "$E2E_T/d2.tar" -w '%{http_code}' http://x/GraphDriver.Diff > "$E2E_T/code" || fail "curl Diff failed"
[[ "$(cat "$E2E_T/code")" == 200 ]] || fail "Diff $L2: HTTP $(cat "$E2E_T/code")"
names="$(tar_names "$E2E_T/d2.tar")"
info "Diff $L2: $(oneline "$names")"
# a/sub was replaced wholesale: either an opaque marker or a whiteout per old entry
assert_eq "members of Diff $L2 (without a, a/sub, markers of the opaque dir)" "a/.wh.f2
a/f3
a/sub/n
e" "$(grep -v -x -e a -e a/sub -e 'a/sub/.wh..wh..opq' -e 'a/sub/.wh.big' <<< "$names")"
grep -q -x -e 'a/sub/.wh..wh..opq' -e 'a/sub/.wh.big' <<< "$names" || fail "Diff $L2 does not delete a/sub/big"

step "CreateReadWrite, nested Get, write through the directory, Put, Changes and DiffSize on it"
RW="$(new_id)"
call GraphDriver.CreateReadWrite "{\"ID\":\"$RW-init\",\"Parent\":\"$L2\"}"
ok "CreateReadWrite $RW-init"
call GraphDriver.Get "{\"ID\":\"$RW-init\"}"
ok "Get $RW-init"
initdir="$(json 'o["Dir"]')"
mkdir -p "$initdir/etc" && echo host > "$initdir/etc/hostname"
call GraphDriver.Put "{\"ID\":\"$RW-init\"}"
ok "Put $RW-init"
call GraphDriver.CreateReadWrite "{\"ID\":\"$RW\",\"Parent\":\"$RW-init\",\"StorageOpt\":{\"size\":\"20G\"}}"
ok "CreateReadWrite $RW"
call GraphDriver.Get "{\"ID\":\"$RW\"}"
ok "Get $RW"
rwdir="$(json 'o["Dir"]')"
call GraphDriver.Get "{\"ID\":\"$RW\"}"
ok "Get $RW (nested)"
assert_eq "Dir of the nested Get" "$rwdir" "$(json 'o["Dir"]')"
[[ "$(cat "$rwdir/etc/hostname")" == host ]] || fail "$RW does not see etc/hostname of its -init layer"
[[ -f "$rwdir/a/f3" && ! -e "$rwdir/a/f2" ]] || fail "$RW does not show the union of its parents"
printf 'seven!\n' > "$rwdir/new.txt"
rm "$rwdir/a/f1"
mkdir "$rwdir/d"
call GraphDriver.Put "{\"ID\":\"$RW\"}"
ok "Put $RW (inner)"
[[ "$(cat "$rwdir/new.txt")" == 'seven!' ]] || fail "$rwdir unusable after the inner Put of a nested Get"
call GraphDriver.Put "{\"ID\":\"$RW\"}"
ok "Put $RW (outer)"
call GraphDriver.Changes "{\"ID\":\"$RW\",\"Parent\":\"$RW-init\"}"
ok "Changes $RW"
assert_eq "Changes of $RW (sorted)" "/a 0
/a/f1 2
/d 1
/new.txt 1" "$(json '"\n".join(sorted("%s %d" % (c["Path"], c["Kind"]) for c in o["Changes"]))')"
call GraphDriver.DiffSize "{\"ID\":\"$RW\",\"Parent\":\"$RW-init\"}"
ok "DiffSize $RW"
assert_eq "DiffSize of $RW" "7" "$(json 'o["Size"]')"
call GraphDriver.DiffSize "{\"ID\":\"$RW\"}"
ok "DiffSize $RW (empty Parent)"
assert_eq "DiffSize of $RW with empty Parent" "7" "$(json 'o["Size"]')"
curl -sS --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' --data-binary "{\"ID\":\"$RW\",\"Parent\":\"$RW-init\"}"$'\n' \
  -o "$E2E_T/d3.tar" -w '%{http_code}' http://x/GraphDriver.Diff > "$E2E_T/code" || fail "curl Diff failed"
[[ "$(cat "$E2E_T/code")" == 200 ]] || fail "Diff $RW: HTTP $(cat "$E2E_T/code")"
assert_eq "members of Diff $RW (without a)" "a/.wh.f1
d
new.txt" "$(tar_names "$E2E_T/d3.tar" | grep -v -x a)"
step "Changes, DiffSize and Diff against a non-immediate ancestor (as docker build --squash asks)"
call GraphDriver.Changes "{\"ID\":\"$RW\",\"Parent\":\"$L1\"}"
ok "Changes $RW vs $L1"
assert_eq "Changes of $RW against its grand-grandparent $L1 (sorted)" "/a 0
/a/f1 2
/a/f2 2
/a/f3 1
/a/sub 0
/a/sub/big 2
/a/sub/n 1
/d 1
/e 0
/etc 1
/etc/hostname 1
/new.txt 1" "$(json '"\n".join(sorted("%s %d" % (c["Path"], c["Kind"]) for c in o["Changes"]))')"
call GraphDriver.DiffSize "{\"ID\":\"$RW\",\"Parent\":\"$L1\"}"
ok "DiffSize $RW vs $L1"
assert_eq "DiffSize of $RW against $L1 (500 + 4 + 10 + 5 + 7)" "526" "$(json 'o["Size"]')"
curl -sS --unix-socket "$SOCK" -X POST -H 'Host;' -H 'Content-Type:' --data-binary "{\"ID\":\"$RW\",\"Parent\":\"$L1\"}"$'\n' \
  -o "$E2E_T/d4.tar" -w '%{http_code}' http://x/GraphDriver.Diff > "$E2E_T/code" || fail "curl Diff failed"
[[ "$(cat "$E2E_T/code")" == 200 ]] || fail "Diff $RW vs $L1: HTTP $(cat "$E2E_T/code")"
names="$(tar_names "$E2E_T/d4.tar")"
info "Diff $RW vs $L1: $(oneline "$names")"
assert_eq "members of the squashed Diff (without a, a/sub, markers of the opaque dir)" "a/.wh.f1
a/.wh.f2
a/f3
a/sub/n
d
e
etc
etc/hostname
new.txt" "$(grep -v -x -e a -e a/sub -e 'a/sub/.wh..wh..opq' -e 'a/sub/.wh.big' <<< "$names")"
grep -q -x -e 'a/sub/.wh..wh..opq' -e 'a/sub/.wh.big' <<< "$names" || fail "the squashed Diff does not delete a/sub/big"
mkdir "$E2E_T/d4x" && tar -C "$E2E_T/d4x" -xf "$E2E_T/d4.tar" a/f3 new.txt etc/hostname
if ! { cmp "$E2E_T/d4x/a/f3" "$src2/a/f3" && [[ "$(cat "$E2E_T/d4x/new.txt")" == 'seven!' \
  && "$(cat "$E2E_T/d4x/etc/hostname")" == host ]]; }; then
  fail "file contents in the squashed Diff differ"
fi

call GraphDriver.GetMetadata "{\"ID\":\"$RW\"}"
ok "GetMetadata $RW"
info "Metadata of $RW: $(body)"
check_no_leaks "$E2E_T"

step "errors: unknown path 404, bad JSON 500, bad ids 500, unknown layer 500"
call GraphDriver.NoSuchThing '{}'
[[ "$CODE" == 404 ]] || fail "unknown endpoint: HTTP $CODE, expected 404"
call Nope '{}'
[[ "$CODE" == 404 ]] || fail "unknown path /Nope: HTTP $CODE, expected 404"
info "unknown paths -> 404"
call GraphDriver.Create '{"ID":'
err "Create with bad JSON"
for bad in ../x a/b .. ""; do
  call GraphDriver.Create "{\"ID\":\"$bad\"}"
  err "Create with ID '$bad'" "$bad"
done
call GraphDriver.Get '{"ID":"../x"}'
err "Get ../x" "../x"
call GraphDriver.Remove '{"ID":"../x"}'
err "Remove ../x" "../x"
ghost="$(new_id)"
call GraphDriver.Get "{\"ID\":\"$ghost\"}"
err "Get of an unknown layer" "$ghost"
call GraphDriver.Create "{\"ID\":\"$(new_id)\",\"Parent\":\"$ghost\"}"
err "Create on an unknown parent" "$ghost"

step "Remove, Cleanup"
for id in "$RW" "$RW-init" "$L2" "$L1"; do
  call GraphDriver.Remove "{\"ID\":\"$id\"}"
  ok "Remove $id"
  call GraphDriver.Exists "{\"ID\":\"$id\"}"
  assert_eq "Exists of removed $id" "false" "$(json 'o["Exists"]')"
done
left="$(find "$HOME_DIR" -mindepth 2 -maxdepth 2 \( -name layer.vhd -o -name sandbox.vhdx \) -not -path "$HOME_DIR/cache/*" || true)"
[[ -z "$left" ]] || fail "layers left after Remove: $left"
call GraphDriver.Cleanup '{}'
ok Cleanup
check_no_leaks "$E2E_T"

step "stop the plugin: socket removed, no leaks, images pass e2fsck"
plugin_stop
check_no_leaks "$E2E_T"
check_images "$E2E_T"

step "done: every endpoint answered as expected"
