#!/usr/bin/env bash
# Description: a bad backing (a directory, a missing file, a device, a relative path, a path in the mount, an unaligned or out-of-file offset, a range past the file's end or empty) or an unknown type gets its errno and leaves the object exactly as it was, with or without an earlier backing
# Timeout: 120
. "$(dirname "$0")/lib.sh"
pfs_require_cmd setfattr getfattr
pfs_setup
pfs_start "$STORE" "$MNT"

B=$PFS_T/b1.bin
gen_file "$B" 64K 211
mkdir "$PFS_T/adir" || fail "mkdir"
EINVAL='Invalid argument'
# Each bad value and what it must get.
bad_backing() { # OBJ WHAT
	local o=$1
	must_err "$2: a directory" "$EINVAL|Is a directory" xset "$o" backing "$PFS_T/adir"
	must_err "$2: a missing file" 'No such file or directory|Invalid argument' xset "$o" backing "$PFS_T/missing"
	must_err "$2: a missing file in a missing directory" 'No such file or directory|Invalid argument' \
		xset "$o" backing "$PFS_T/nodir/missing"
	must_err "$2: a character device" "$EINVAL" xset "$o" backing /dev/null
	must_err "$2: a relative path" "$EINVAL" xset "$o" backing "b1.bin"
	must_err "$2: an empty value" "$EINVAL" xset "$o" backing ""
	must_err "$2: a path inside the mount" "$EINVAL" xset "$o" backing "$MNT/other"
	must_err "$2: an offset that is not page-aligned" "$EINVAL" xset "$o" backing "$B:100"
	must_err "$2: an offset past the file's end" "$EINVAL" xset "$o" backing "$B:1M"
	must_err "$2: a range past the file's end" "$EINVAL" xset "$o" backing "$B:0:1M"
	must_err "$2: a range starting inside, ending past the end" "$EINVAL" xset "$o" backing "$B:60K:8K"
	must_err "$2: a zero length" "$EINVAL" xset "$o" backing "$B:0:0"
	must_err "$2: a malformed offset" "$EINVAL" xset "$o" backing "$B:4K4"
	must_err "$2: a negative offset" "$EINVAL" xset "$o" backing "$B:-4096"
	must_err "$2: too many fields" "$EINVAL" xset "$o" backing "$B:0:4096:1"
	must_err "$2: an unknown type" "$EINVAL" xset "$o" type bogus
	must_err "$2: a type in capitals" "$EINVAL" xset "$o" type HEAP
	must_err "$2: an empty type" "$EINVAL" xset "$o" type ""
}
snap() {
	printf '%s|%s|%s|%s|%s' "$(xget "$1" type 2>&1)" "$(xget "$1" flags 2>&1)" \
		"$(xget "$1" backing 2>&1)" "$(xget "$1" pages 2>&1)" "$(fsize "$1")"
}
: >"$MNT/other" || fail "cannot create $MNT/other"

# An object without a backing.
o=$MNT/plain
: >"$o" && truncate -s 64K "$o" || fail "cannot create $o"
s0=$(snap "$o")
bad_backing "$o" "no backing before"
s=$(snap "$o")
[ "$s" = "$s0" ] || fail "refused changes changed the object: '$s0' -> '$s'"
must "still zeros" pfs_client verify "$o" 0 64K 0

# An object with a backing range: it keeps it.
h=$MNT/backed
: >"$h" || fail "cannot create $h"
must "valid backing" xset "$h" backing "$B:8K:32K"
must "type heap" xset "$h" type heap
must "flags persist" xset "$h" flags persist
s0=$(snap "$h")
bad_backing "$h" "with a backing"
s=$(snap "$h")
[ "$s" = "$s0" ] || fail "refused changes changed the backed object: '$s0' -> '$s'"
[ "$(fsize "$h")" -eq 32768 ] || fail "the backed object is $(fsize "$h") bytes, expected its range's 32768"
must "still the backing range" pfs_client mapcmp "$h" 0 32K "$B" 8K

pfs_remount "$STORE" "$MNT"
s=$(snap "$h")
[ "$s" = "$s0" ] || fail "after remount the backed object is '$s', was '$s0'"
must "after remount: the backing range" pfs_client mapcmp "$h" 0 32K "$B" 8K
must "after remount: the plain object" pfs_client verify "$o" 0 64K 0
pfs_stop "$MNT"
