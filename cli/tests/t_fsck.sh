#!/bin/sh
# Description: pagerctl fsck passes a clean store (exit 0), finds each kind of
# injected damage (exit 1) by object and page, repairs what is unreachable,
# refuses a store a daemon holds; map --store draws the committed page map.
# shellcheck source=cli/tests/lib.sh
. "${srcdir:-.}/cli/tests/lib.sh"

[ -x "$PAGERCTL" ] || t_skip "no $PAGERCTL"
[ -x "$MKSTORE" ] || t_skip "no $MKSTORE"
S=$t_tmp/store

fresh() {
	rm -rf "$S" "$S.backing"
	"$MKSTORE" build "$S" >/dev/null || { t_bad "building a store"; t_done; }
}

# A clean store.
fresh
t_run 0 "clean store" "$PAGERCTL" fsck "$S"
t_grep "clean store says so" ": clean$"
t_grep "swap pages verified" "70 swap pages \(70 checksums verified\)"
t_run 0 "clean store, verbose" "$PAGERCTL" fsck -v "$S"
t_grep "verbose names the swap file" "swap file swap.0"
t_run 0 "clean store, --repair changes nothing" "$PAGERCTL" fsck --repair "$S"
t_nogrep "nothing repaired" "repaired:"

# A flipped byte in a frame: found by object and page, not repairable.
fresh
"$MKSTORE" corrupt-frame "$S" >/dev/null
t_run 1 "corrupt frame found" "$PAGERCTL" fsck "$S"
t_grep "by object and page" "object [0-9]+ \(/a\) page 3: checksum mismatch in frame [0-9]+ of swap.0"
t_grep "the clone sharing the frame too" "\(/c\) page 3: checksum mismatch"
t_run 1 "corrupt frame is not repairable" "$PAGERCTL" fsck --repair "$S"
t_nogrep "nothing dropped for a bad checksum" "repaired:"

# An extent record of an object that does not exist.
fresh
"$MKSTORE" dangling-extent "$S" >/dev/null
t_run 1 "dangling extent found" "$PAGERCTL" fsck "$S"
t_grep "dangling extent named" "object 999999 has no record, but 1 page-map extent record .*\[repairable\]"
t_run 0 "dangling extent repaired" "$PAGERCTL" fsck --repair "$S"
t_grep "repair reports the drop" "repaired: dropped the extent record of object 999999 at page 0"
t_run 0 "clean after the repair" "$PAGERCTL" fsck "$S"

# A dangling SWAP extent sharing live frames: counts are fixed, no frame freed.
fresh
"$MKSTORE" dangling-swap "$S" >/dev/null
t_run 1 "dangling swap extent found" "$PAGERCTL" fsck "$S"
t_grep "its frames' counts disagree" "frame [0-9]+: reference count 2, but 3 pages use it"
t_run 0 "dangling swap extent repaired" "$PAGERCTL" fsck --repair "$S"
t_run 0 "clean after it" "$PAGERCTL" fsck "$S"
t_grep "the live object's pages survive" "50 swap pages|66 swap pages|70 swap pages"

# A name the record does not count: found, not guessed at.
fresh
"$MKSTORE" extra-name "$S" >/dev/null
t_run 1 "uncounted second name found" "$PAGERCTL" fsck "$S"
t_grep "names the object and its count" "object [0-9]+ has more names than its record counts \(1; another is 'alias'\)"

# Damage of every repairable kind at once.
fresh
for d in dangling-name orphan leak bad-ref dangling-extent; do "$MKSTORE" "$d" "$S" >/dev/null; done
t_run 1 "several kinds of damage found" "$PAGERCTL" fsck "$S"
t_grep "dangling name" "name 'ghost' in directory 1 \(/\) points at object 888888"
t_grep "orphan object" "object [0-9]+ \('c'\) has no name"
t_grep "leaked frames" "frames [0-9]+\.\.[0-9]+ of swap.0 are neither free nor used"
t_grep "wrong reference count" "frame [0-9]+: reference count 7, but 2 pages use it"
t_grep "summary counts them" "5 problems, 5 of them repairable"
t_run 0 "all repaired" "$PAGERCTL" fsck --repair "$S"
t_grep "orphan destroyed through the store" "repaired: destroyed object [0-9]+ \('c', no name\)"
t_grep "leak returned" "repaired: returned 5 frames"
t_grep "count rewritten" "repaired: reference count of frame [0-9]+ set to"
t_grep "checked again" "clean after the repair"
t_run 0 "clean afterwards" "$PAGERCTL" fsck "$S"

# A record of another kind among the reference-count runs: dropped, counts rebuilt.
fresh
"$MKSTORE" foreign-ref "$S" >/dev/null
t_run 1 "foreign reference record found" "$PAGERCTL" fsck "$S"
t_grep "the record named" "frame [0-9]+: the reference-count run there is damaged"
t_grep "the shared frames it hid" "frame [0-9]+: 2 pages use it \(object [0-9]+ page 0, object [0-9]+ page 0\) but it has no reference-count record"
t_run 0 "foreign reference record repaired" "$PAGERCTL" fsck --repair "$S"
t_grep "counts written back" "repaired: reference count of frame [0-9]+ set to 2"
t_run 0 "clean after it" "$PAGERCTL" fsck "$S"

# A store written by schema 2 (a count record per frame): clean when read
# as it is; a writer's open turns the records into runs, still clean.
fresh
"$MKSTORE" schema-2 "$S" >/dev/null
t_run 0 "schema-2 store checks clean read-only" "$PAGERCTL" fsck "$S"
t_grep "schema-2 store is clean" ": clean$"
t_run 0 "schema-2 store upgraded by --repair's open" "$PAGERCTL" fsck --repair "$S"
t_nogrep "the upgrade is no repair" "repaired:"
t_run 0 "clean after the upgrade" "$PAGERCTL" fsck "$S"
t_grep "every page still verified" "70 swap pages \(70 checksums verified\)"

# A store a daemon holds: refused with a clear message.
fresh
mkfifo "$t_tmp/hold"
"$MKSTORE" hold "$S" <"$t_tmp/hold" >"$t_tmp/hold.out" &
hold_pid=$!
exec 7>"$t_tmp/hold"
i=0
while ! grep -q ready "$t_tmp/hold.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t_run 1 "busy store refused" "$PAGERCTL" fsck "$S"
t_grep "says a daemon holds it" "in use by a running pagerfsd"
t_run 1 "busy store refused for --repair" "$PAGERCTL" fsck --repair "$S"
t_run 1 "busy store refused for map --store" "$PAGERCTL" map --store "$S" /a
exec 7>&-
wait $hold_pid

# Not a store, and usage errors.
mkdir -p "$t_tmp/empty"
t_run 1 "not a store" "$PAGERCTL" fsck "$t_tmp/empty"
t_grep "not-a-store message" "pagerctl: .*empty: not a pagerfs store"
if [ -z "$(ls -A "$t_tmp/empty")" ]; then t_ok "fsck created nothing"; else t_bad "fsck created files in a non-store"; fi
t_run 1 "missing store" "$PAGERCTL" fsck "$t_tmp/nonexistent"
t_run 2 "fsck without a store" "$PAGERCTL" fsck
t_run 2 "fsck with a bad option" "$PAGERCTL" fsck --bogus "$S"
t_run 2 "fsck with two stores" "$PAGERCTL" fsck "$S" "$S"
t_run 0 "fsck --help" "$PAGERCTL" fsck --help
t_grep "help names --repair" "--repair"

# map --store: the committed page map, drawn where the runs lie.
t_run 0 "map --store of /a" "$PAGERCTL" map --store "$S" /a --width 60 --color never
t_grep "all swap" "^ *0 \[s{40}\]$"
t_run 0 "map --store of a sparse object" "$PAGERCTL" map --store "$S" sparse --width 80 --color never
t_grep "sparse: swap cells at the start, middle, end" "\[S\.+S\.+S\]"
t_grep "scaled" "228 pages per cell"
t_grep "legend counts" "s swap +3 pages"
t_run 0 "map --store -v lists runs" "$PAGERCTL" map --store "$S" /f --width 60 -v --color never
t_grep "file run" "file +backing pages 0\.\.19"
t_grep "swap run" "swap +frame [0-9]+ in swap.0"
t_grep "zero run" "50 +255 +206 +zero"
t_run 0 "map --store --rows" "$PAGERCTL" map --store "$S" /sparse --width 40 --rows 3 --color never
t_grep "three rows" "^ *[0-9]+ \[.*\]$"
t_run 1 "map --store of a directory" "$PAGERCTL" map --store "$S" /d
t_run 1 "map --store of a missing object" "$PAGERCTL" map --store "$S" /nope
t_grep "names store and path" "pagerctl: .*:/nope: No such file or directory"
t_run 2 "map --rows needs --store" "$PAGERCTL" map --rows 2 /a
t_run 2 "map --width too small" "$PAGERCTL" map --store "$S" --width 3 /a

t_done
