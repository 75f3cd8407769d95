#!/bin/sh
# run.sh DIR - run every test program in DIR and every tests/test-*.sh, each
# under a timeout. Exit 0 pass, 77 skip, anything else fails. Afterwards
# check that no IPC object was left behind in /dev/shm, /dev/mqueue, System V
# or /tmp. Prints "N passed, N failed, N skipped" last.
dir=${1:?usage: run.sh BUILD/tests}
here=$(cd "$(dirname "$0")" && pwd)
limit=${T_TIMEOUT:-120}
pass=0 fail=0 skip=0 failed=

snapshot() {
	{
		ls /dev/shm 2>/dev/null | sed 's|^|shm:|'
		ls /dev/mqueue 2>/dev/null | sed 's|^|mq:|'
		ls -d /tmp/ipcx-t* 2>/dev/null | sed 's|^|tmp:|'
		awk 'NR>1 {print "sysv-msg:" $2}' /proc/sysvipc/msg 2>/dev/null
		awk 'NR>1 {print "sysv-shm:" $2}' /proc/sysvipc/shm 2>/dev/null
		awk 'NR>1 {print "sysv-sem:" $2}' /proc/sysvipc/sem 2>/dev/null
	} | sort
}

before=$(mktemp) after=$(mktemp)
snapshot >"$before"

run_one() {
	name=$1
	shift
	out=$(mktemp)
	timeout -k 5 "$limit" "$@" >"$out" 2>&1
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$out")" ;;
	124 | 137) fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (timed out after ${limit}s)"; sed 's/^/    /' "$out" | tail -n 30 ;;
	*) fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$out" | tail -n 30 ;;
	esac
	rm -f "$out"
}

for t in "$dir"/test-*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for t in "$here"/test-*.sh; do
	[ -f "$t" ] || continue
	# A script says which shell it needs on its first line.
	case $(head -n 1 "$t") in
	*bash*) run_one "$(basename "$t")" bash "$t" ;;
	*) run_one "$(basename "$t")" sh "$t" ;;
	esac
done

snapshot >"$after"
left=$(comm -13 "$before" "$after")
if [ -n "$left" ]; then
	fail=$((fail + 1))
	failed="$failed leftovers"
	echo "FAIL leftovers: the suite left these IPC objects behind:"
	echo "$left" | sed 's/^/    /'
else
	pass=$((pass + 1))
	echo "PASS leftovers (no /dev/shm, /dev/mqueue, System V or /tmp object left)"
fi
rm -f "$before" "$after"

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
