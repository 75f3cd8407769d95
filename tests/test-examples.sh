#!/bin/sh
# test-examples.sh - every code example in README.md and the man pages runs.
# The C examples (README's ```c blocks, libipcx(3)'s EXAMPLE) are compiled
# against the tree and run; README's command block runs line for line in a
# scratch directory. What changes from the printed text, and only that:
# build/ipcx becomes $IPCX, /tmp/s and shm://bus get names of this run, and
# the bench line gets --quick. Exit 0 pass, 1 fail, 77 skip.
top=$(cd "$(dirname "$0")/.." && pwd)
IPCX=${IPCX:-$top/build/ipcx}
B=$(dirname "$IPCX")
[ -x "$IPCX" ] && [ -f "$B/libipcx.a" ] || { echo "build first: make"; exit 77; }
command -v cc >/dev/null 2>&1 || { echo "cc is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/ipcx-texam.XXXXXX) || exit 1
ring=ipcx-t$$-readme
trap '"$IPCX" rm "shm://$ring" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# The sanitizer builds link their runtime: reuse the flags make used.
case $B in
*asan*) san="-fsanitize=address,undefined" ;;
*tsan*) san="-fsanitize=thread" ;;
*) san= ;;
esac
build() { # build SRC OUT
	# shellcheck disable=SC2086
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $san -I"$top/include" \
		-o "$2" "$1" "$B/libipcx.a" -pthread
}
subst() {
	sed -e "s|build/ipcx|\"\$IPCX\"|g" -e "s|/tmp/s\\b|$tmp/s|g" \
		-e "s|shm://bus|shm://$ring|g" -e "s|/tmp/demo.sock|$tmp/demo.sock|g"
}

# README's C example: it sends "hi" on shm://bus, which ipcx recv prints.
awk '/^```c$/ {on = 1; next} /^```$/ {on = 0} on' "$top/README.md" | subst >"$tmp/readme.c"
if [ ! -s "$tmp/readme.c" ]; then
	fail "README.md has no C example"
elif ! build "$tmp/readme.c" "$tmp/readme" 2>"$tmp/err"; then
	fail "README's C example does not compile:"; cat "$tmp/err"
elif ! timeout 20 "$tmp/readme"; then
	fail "README's C example exits non-zero"
elif [ "$(timeout 20 "$IPCX" recv "shm://$ring" -n 1 -t 5000)" != hi ]; then
	fail "README's C example: ipcx recv did not print hi"
else
	echo "ok: README's C example sends hi"
fi
"$IPCX" rm "shm://$ring" >/dev/null 2>&1

# libipcx(3)'s EXAMPLE: it receives one message on a unix socket.
awk '/^\.SH EXAMPLE/ {ex = 1} ex && /^\.nf/ {on = 1; next} on && /^\.fi/ {exit} on' \
	"$top/docs/libipcx.3" | sed 's/\\e/\\/g' | subst >"$tmp/man.c"
if [ ! -s "$tmp/man.c" ]; then
	fail "libipcx.3 has no EXAMPLE"
elif ! build "$tmp/man.c" "$tmp/man" 2>"$tmp/err"; then
	fail "libipcx(3)'s example does not compile:"; cat "$tmp/err"
else
	timeout 20 "$tmp/man" >"$tmp/man.out" &
	pid=$!
	timeout 20 "$IPCX" send -t 5000 "unix://$tmp/demo.sock" hello
	wait $pid
	rc=$?
	if [ $rc -ne 0 ] || [ "$(cat "$tmp/man.out")" != hello ]; then
		fail "libipcx(3)'s example (exit $rc) printed '$(cat "$tmp/man.out")', not hello"
	else
		echo "ok: libipcx(3)'s example receives hello"
	fi
fi

# README's command block, line for line.
awk '/^## The command/ {s = 1} s && /^```sh$/ {on = 1; next} on && /^```$/ {exit} on' \
	"$top/README.md" | subst | sed "s|^\(.*ipcx\" bench .*\)$|\1 --quick|" >"$tmp/cmds.sh"
[ -s "$tmp/cmds.sh" ] || fail "README.md has no command block"
(cd "$tmp" && IPCX=$IPCX timeout 60 sh -e "$tmp/cmds.sh" >"$tmp/cmds.out" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	fail "README's command block exits $rc:"; sed 's/^/    /' "$tmp/cmds.out" | tail -n 20
else
	grep -qx hello "$tmp/cmds.out" && grep -qx world "$tmp/cmds.out" ||
		fail "README's commands: the unix receiver did not print hello and world"
	grep -qx a "$tmp/cmds.out" && grep -qx b "$tmp/cmds.out" ||
		fail "README's commands: the pipe did not carry a and b"
	cmp -s "$tmp/f" "$tmp/g" || fail "README's commands: 1 MiB through shm differs"
	grep -q 'p50' "$tmp/cmds.out" || grep -qi 'rtt' "$tmp/cmds.out" ||
		fail "README's commands: bench printed no table"
	[ $fails -eq 0 ] && echo "ok: README's command block"
fi
[ $fails -eq 0 ]
