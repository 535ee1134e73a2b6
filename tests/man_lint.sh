#!/bin/sh
# Description: every man page is clean under mandoc -T lint (warnings and worse).
command -v mandoc >/dev/null || { echo "mandoc not installed"; exit 77; }
passed=0 failed=0
for m in "${srcdir:-.}"/man/*.1 "${srcdir:-.}"/man/*.7 "${srcdir:-.}"/man/*.8; do
	if out=$(mandoc -T lint -W warning "$m" 2>&1) && [ -z "$out" ]; then
		echo "ok: $m"
		passed=$((passed + 1))
	else
		echo "FAIL: $m"
		echo "$out" | sed 's/^/    | /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -ge 3 ]
