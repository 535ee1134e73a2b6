#!/bin/sh
# Description: make install DESTDIR=... puts the binaries, the man pages, the
# systemd unit and the bash completion where a system tool's belong.
set -u
dest=$(mktemp -d /var/tmp/pagerfs-install.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT
if ! ${MAKE:-make} -s install DESTDIR="$dest" >"$dest.log" 2>&1; then
	echo "FAIL: make install"
	sed 's/^/    | /' "$dest.log"
	rm -f "$dest.log"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f "$dest.log"
passed=0 failed=0
for want in sbin/pagerfsd bin/pagerctl share/man/man1/pagerctl.1 share/man/man7/pagerfs.7 \
	    share/man/man8/pagerfsd.8 share/bash-completion/completions/pagerctl \
	    lib/systemd/system/pagerfs@.service; do
	f=$(find "$dest" -path "*/$want" | head -n 1)
	if [ -n "$f" ]; then
		echo "ok: ${f#"$dest"}"
		passed=$((passed + 1))
	else
		echo "FAIL: nothing installed as .../$want"
		failed=$((failed + 1))
	fi
done
for exe in sbin/pagerfsd bin/pagerctl; do
	f=$(find "$dest" -path "*/$exe" | head -n 1)
	if [ -n "$f" ] && "$f" --help >/dev/null 2>&1; then
		echo "ok: installed $exe runs"
		passed=$((passed + 1))
	else
		echo "FAIL: installed $exe does not run --help"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
