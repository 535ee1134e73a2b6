#!/bin/sh
# Description: every pagerctl subcommand against a real pagerfsd mount: exit
# codes, messages, --json that parses; then umount, fsck and map --store on
# the store it left. Skips (77) when pagerfsd is not built or cannot mount.
# shellcheck source=cli/tests/lib.sh
. "${srcdir:-.}/cli/tests/lib.sh"

[ -x "$PAGERCTL" ] || t_skip "no $PAGERCTL"
[ -x "$PAGERFSD" ] || t_skip "no $PAGERFSD (the daemon is not built)"
command -v fusermount3 >/dev/null || t_skip "no fusermount3"
[ -c /dev/fuse ] || t_skip "no /dev/fuse"
command -v python3 >/dev/null || t_skip "no python3"

S=$t_tmp/store
M=$t_tmp/mnt
mkdir -p "$M"
"$PAGERFSD" -f "$S" "$M" 2>"$t_tmp/daemon.log" &
daemon=$!
t_at_exit "fusermount3 -u '$M' 2>/dev/null; kill $daemon 2>/dev/null; wait $daemon 2>/dev/null"
i=0
while [ ! -e "$M/.pagerfs/status" ]; do
	if [ $i -ge 100 ] || ! kill -0 $daemon 2>/dev/null; then
		sed 's/^/    | /' "$t_tmp/daemon.log"
		t_skip "pagerfsd did not mount"
	fi
	sleep 0.1
	i=$((i + 1))
done

# t_field EXPR: a Python expression over the last t_json's document d.
t_field() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$t_tmp/json"
}
# t_eq NAME ACTUAL EXPECTED
t_eq() {
	if [ "$2" = "$3" ]; then t_ok "$1"; else t_bad "$1: '$2', wanted '$3'"; fi
}

# ---- usage and help, for every command ----
for c in create ls stat map resize clone release sync quota df fsck umount; do
	t_run 0 "$c --help" "$PAGERCTL" "$c" --help
	t_grep "$c --help shows its usage" "^Usage: pagerctl $c"
	t_run 2 "$c with a bad option" "$PAGERCTL" "$c" --no-such-option
done
t_run 2 "no command" "$PAGERCTL"
t_run 2 "unknown command" "$PAGERCTL" frobnicate
t_run 0 "pagerctl --help" "$PAGERCTL" --help
t_run 0 "pagerctl help map" "$PAGERCTL" help map
t_run 0 "pagerctl --version" "$PAGERCTL" --version

# ---- create ----
t_run 0 "create a default object" "$PAGERCTL" create --size 1M "$M/a"
t_json "stat --json of it" "$PAGERCTL" stat --json "$M/a"
t_eq "a default object is a heap" "$(t_field 'd["type"]')" heap
t_eq "a default object persists" "$(t_field '",".join(d["flags"])')" persist
t_eq "its size" "$(t_field 'd["size"]')" 1048576
t_eq "its pages" "$(t_field 'd["pages"]["total"]')" 256
t_eq "it is an object" "$(t_field 'd["kind"]')" object
t_run 1 "create an existing object" "$PAGERCTL" create "$M/a"
t_grep "names path and reason" "^pagerctl: $M/a: File exists$"
t_run 0 "create a stack" "$PAGERCTL" create --type stack --maxsize 64K "$M/st"
t_json "stat --json of the stack" "$PAGERCTL" stat --json "$M/st"
t_eq "stack type" "$(t_field 'd["type"]')" stack
t_eq "stack maxsize" "$(t_field 'd["maxsize"]')" 65536
head -c 20480 /dev/urandom >"$t_tmp/backing.bin"
t_run 0 "create a code object" "$PAGERCTL" create --type code --backing "$t_tmp/backing.bin:0:8K" "$M/code"
t_json "stat --json of code" "$PAGERCTL" stat --json "$M/code"
t_eq "code backing path" "$(t_field 'd["backing"]["path"]')" "$t_tmp/backing.bin"
t_eq "code backing length" "$(t_field 'd["backing"]["length"]')" 8192
t_eq "code file pages" "$(t_field 'd["pages"]["file"]')" 2
t_run 0 "create a persistent debug heap" "$PAGERCTL" create --type heap --persist --debug --size 8K "$M/dbg"
t_json "stat --json of it" "$PAGERCTL" stat --json "$M/dbg"
t_eq "its flags" "$(t_field '",".join(sorted(d["flags"]))')" "debug,persist"
t_run 2 "create --maxsize without a stack" "$PAGERCTL" create --maxsize 64K "$M/x"
t_run 2 "create a stack without --maxsize" "$PAGERCTL" create --type stack "$M/x"
t_run 2 "create --type bogus" "$PAGERCTL" create --type bogus "$M/x"
t_run 2 "create --size bogus" "$PAGERCTL" create --size 12Q "$M/x"
t_run 2 "create without a path" "$PAGERCTL" create
t_run 1 "create with a missing backing file" "$PAGERCTL" create --backing "$t_tmp/nope" "$M/x"
t_run 1 "create with a backing range past the file" "$PAGERCTL" create --type code --backing "$t_tmp/backing.bin:0:1M" "$M/x"
t_grep "says which step failed" "pagerctl: $M/x: setting its backing: "
if [ ! -e "$M/x" ]; then t_ok "a failed create leaves nothing"; else t_bad "a failed create left $M/x"; fi
t_run 1 "create outside pagerfs" "$PAGERCTL" create "$t_tmp/outside"
t_grep "not on a pagerfs mount" "not on a pagerfs mount"

# ---- contents: write, then look ----
head -c 262144 /dev/urandom >"$t_tmp/data"
dd if="$t_tmp/data" of="$M/a" conv=notrunc,fsync bs=64K status=none
t_run 0 "sync an object" "$PAGERCTL" sync "$M/a"
t_run 0 "sync the mount point" "$PAGERCTL" sync "$M"
t_json "stat after writing" "$PAGERCTL" stat --json "$M/a"
t_eq "64 swap pages after writing 256K" "$(t_field 'd["pages"]["swap"]')" 64
t_run 0 "stat text" "$PAGERCTL" stat "$M/a"
t_grep "stat shows pages" "^pages +256: zero 192, file 0, swap 64"

# ---- ls ----
t_run 0 "ls the mount" "$PAGERCTL" ls "$M"
t_grep "ls header" "^TYPE +SIZE +ZERO +FILE +SWAP +NAME$"
t_grep "ls shows a" "^heap +1\.0M +192 +0 +64 +a$"
t_grep "ls shows the stack" "^stack +.* st$"
t_nogrep "ls hides .pagerfs" "\.pagerfs"
t_run 0 "ls -l" "$PAGERCTL" ls -l "$M"
t_grep "ls -l shows the backing" "code -> $t_tmp/backing.bin:0:8192"
t_grep "ls -l shows flags" " persist "
t_run 0 "ls one object" "$PAGERCTL" ls "$M/a"
t_run 1 "ls a missing path" "$PAGERCTL" ls "$M/missing"
t_grep "ls missing message" "pagerctl: $M/missing: No such file or directory"

# ---- directories: quota ----
mkdir "$M/d"
t_run 0 "quota of a sharing directory" "$PAGERCTL" quota "$M/d"
t_grep "no quota" "no quota \(shares its parent's frames\)"
t_run 0 "set a quota" "$PAGERCTL" quota "$M/d" 1M
t_run 0 "show it" "$PAGERCTL" quota "$M/d"
t_grep "quota shown" "quota 1\.0M, usage 0"
t_json "stat --json of a control" "$PAGERCTL" stat --json "$M/d"
t_eq "control kind" "$(t_field 'd["kind"]')" control
t_eq "control quota" "$(t_field 'd["quota"]')" 1048576
t_run 1 "a quota bigger than the store" "$PAGERCTL" quota "$M/d" 1000T
t_grep "ENOSPC explained" "cannot spare"
t_run 0 "remove the quota" "$PAGERCTL" quota "$M/d" none
t_json "stat after removing it" "$PAGERCTL" stat --json "$M/d"
t_eq "quota null again" "$(t_field 'd["quota"]')" None
t_run 1 "quota of an object" "$PAGERCTL" quota "$M/a" 1M
t_run 2 "quota with a bad size" "$PAGERCTL" quota "$M/d" lots
t_json "stat --json of the root" "$PAGERCTL" stat --json "$M"
t_eq "the root is a control" "$(t_field 'd["kind"]')" control

# ---- resize, release, clone ----
t_run 0 "resize up" "$PAGERCTL" resize "$M/a" 2M
t_json "after resize" "$PAGERCTL" stat --json "$M/a"
t_eq "new size" "$(t_field 'd["size"]')" 2097152
t_run 2 "resize with a bad size" "$PAGERCTL" resize "$M/a" big
t_run 2 "resize without a size" "$PAGERCTL" resize "$M/a"
t_run 1 "resize a directory" "$PAGERCTL" resize "$M/d" 1M
t_run 1 "resize a code object" "$PAGERCTL" resize "$M/code" 1M
t_run 0 "release 64K" "$PAGERCTL" release "$M/a" 0 64K
t_json "after release" "$PAGERCTL" stat --json "$M/a"
t_eq "16 swap pages released" "$(t_field 'd["pages"]["swap"]')" 48
t_run 2 "release of zero bytes" "$PAGERCTL" release "$M/a" 0 0
t_run 0 "clone a whole object" "$PAGERCTL" clone "$M/a" "$M/b"
if cmp -s "$M/a" "$M/b"; then t_ok "the clone has the same bytes"; else t_bad "the clone differs"; fi
t_run 0 "clone a range" "$PAGERCTL" clone --range 64K:128K "$M/a" "$M/c"
t_json "the range clone" "$PAGERCTL" stat --json "$M/c"
t_eq "range clone size" "$(t_field 'd["size"]')" 196608
if cmp -s -i 65536:65536 -n 131072 "$M/a" "$M/c"; then t_ok "range clone bytes"; else t_bad "range clone bytes differ"; fi
t_run 1 "clone onto itself" "$PAGERCTL" clone "$M/a" "$M/a"
t_run 2 "clone with a bad range" "$PAGERCTL" clone --range x:y "$M/a" "$M/c"

# ---- map ----
t_run 0 "map a live object" "$PAGERCTL" map --width 60 --color never "$M/a"
t_grep "map says it shows proportions" "proportions, not positions"
t_grep "map draws a bar" "^\[s+\.+\]$"
t_grep "map legend" "s swap +48 pages"
t_run 0 "map of a code object" "$PAGERCTL" map --width 40 --color never "$M/code"
t_grep "file band" "^\[f+\]$"
t_run 1 "map of a directory" "$PAGERCTL" map "$M/d"
t_run 2 "map --verbose needs --store" "$PAGERCTL" map -v "$M/a"

# ---- df ----
t_run 0 "df of the mount" "$PAGERCTL" df "$M"
t_grep "df header" "^MOUNTPOINT +CAPACITY +USED +RESERVED +FREE +USE% +OBJECTS$"
t_grep "df row" "^$M "
t_run 0 "df of a path inside it" "$PAGERCTL" df "$M/d"
t_grep "df resolves to the mount point" "^$M "
t_run 0 "df in bytes" "$PAGERCTL" df -b "$M"
t_run 1 "df of a path not on pagerfs" "$PAGERCTL" df "$t_tmp"
t_run 1 "stat outside pagerfs" "$PAGERCTL" stat "$t_tmp/data"
t_grep "stat not-pagerfs message" "^pagerctl: $t_tmp/data: not on a pagerfs mount"

# ---- persistence through umount, then the offline commands ----
t_run 1 "fsck refuses a mounted store" "$PAGERCTL" fsck "$S"
t_grep "busy message" "in use by a running pagerfsd"
t_run 1 "umount of a non-mount" "$PAGERCTL" umount "$t_tmp"
t_run 0 "umount" "$PAGERCTL" umount --timeout 30 "$M"
if grep -q " $M " /proc/self/mountinfo; then t_bad "still mounted"; else t_ok "unmounted"; fi
if kill -0 $daemon 2>/dev/null; then t_bad "the daemon still runs after umount"; else t_ok "the daemon exited"; fi
wait $daemon
rc=$?
t_eq "the daemon exited 0" "$rc" 0
[ "$rc" -eq 0 ] || sed 's/^/    daemon: /' "$t_tmp/daemon.log"
t_run 0 "fsck of the store a real daemon left" "$PAGERCTL" fsck "$S"
t_grep "clean" ": clean$"
t_run 0 "map --store of an object" "$PAGERCTL" map --store "$S" --width 70 --color never -v /a
t_grep "runs in place: released pages are zero" "^ *0 \[\.+s+\.+\]$"
t_grep "run list" "swap +frames? [0-9]+"

t_done
