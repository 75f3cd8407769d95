#!/bin/sh
# test-abi.sh - the shared library exports exactly the functions that
# include/ipcx.h declares, and src/libipcx.map lists each by name.
# Exit 0 pass, 1 fail, 77 skip.
top=$(cd "$(dirname "$0")/.." && pwd)
so=$(dirname "${IPCX:-$top/build/ipcx}")/libipcx.so
command -v nm >/dev/null 2>&1 || { echo "nm is not installed"; exit 77; }
[ -f "$so" ] || { echo "no $so (build it: make)"; exit 77; }
tmp=$(mktemp -d /tmp/ipcx-tabi.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Declared: every "ipcx_name(" at the start of a declaration in the header.
grep -oE '\bipcx_[a-z_]+\(' "$top/include/ipcx.h" | tr -d '(' | sort -u >"$tmp/decl"
nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u >"$tmp/exp"
grep -oE '^[[:space:]]+ipcx_[a-z_]+;' "$top/src/libipcx.map" | tr -d ' \t;' | sort -u >"$tmp/map"
rc=0
if ! cmp -s "$tmp/decl" "$tmp/exp"; then
	echo "FAIL: exported symbols differ from the header (< header, > library):"
	diff "$tmp/decl" "$tmp/exp"
	rc=1
fi
if ! cmp -s "$tmp/decl" "$tmp/map"; then
	echo "FAIL: src/libipcx.map differs from the header (< header, > map):"
	diff "$tmp/decl" "$tmp/map"
	rc=1
fi
[ $rc -eq 0 ] && echo "ok: $(wc -l <"$tmp/exp") exported functions, all declared and listed"
exit $rc
