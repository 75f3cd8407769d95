#!/bin/sh
# test-tour.sh - `ipcx tour`, the main job: exits 0, names every mechanism of
# the notes and every row of the notes' table, prints valid JSON, speaks
# Korean with --lang ko, and leaves /dev/shm, /dev/mqueue, System V and /tmp
# as it found them, also when SIGINT comes at a random moment (the seed is
# printed; IPCX_T_SEED repeats it). Exit 0 pass, 1 fail, 77 skip.
IPCX=${IPCX:-$(pwd)/build/ipcx}
[ -x "$IPCX" ] || { echo "no ipcx binary at $IPCX (build it: make)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/ipcx-ttour.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
T="timeout -k 5 60"

# What the tour may touch, by its own names only (other programs may be
# making and removing objects at the same time).
objects() {
	{
		ls /dev/shm /dev/mqueue 2>/dev/null
		ls -d /tmp/ipcx-tour-* 2>/dev/null
	} | grep -E 'ipcx-tour' | sort
}
before=$(objects)

$T "$IPCX" tour >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { fail "ipcx tour exits $rc"; cat "$tmp/out" "$tmp/err"; }
for word in "file" "message queue" "shared memory" "pipe" "signal" "semaphore" "socket" \
	"kernel" "stack" "heap" ".bss" ".data" ".text"; do
	grep -qF -- "$word" "$tmp/out" || fail "the tour never names '$word'"
done
if grep -q "FAILED" "$tmp/out"; then fail "a mechanism failed:"; grep -A1 FAILED "$tmp/out"; fi

$T "$IPCX" tour --json >"$tmp/json" 2>"$tmp/err" || fail "ipcx tour --json exits non-zero"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
names = [m["mechanism"] for m in d["mechanisms"]]
assert names == ["file", "message queue", "shared memory", "pipe", "signal",
                 "semaphore", "socket"], names
for m in d["mechanisms"]:
    assert m["ok"] or m["skipped"], m
    if m["ok"]:
        assert m["rtt_p50_ns"] > 0 and m["round_trips"] > 0, m
' "$tmp/json" || fail "ipcx tour --json is not the expected JSON"

$T "$IPCX" tour --lang ko >"$tmp/ko" 2>&1 || fail "ipcx tour --lang ko exits non-zero"
grep -q "공유" "$tmp/ko" || fail "--lang ko prints no Korean"
NO_COLOR=1 $T "$IPCX" tour >"$tmp/nc" 2>&1
! grep -q "$(printf '\033')" "$tmp/nc" || fail "colour on a pipe"

[ "$(objects)" = "$before" ] || fail "the tour left objects: $(objects)"

# SIGINT at random moments within one run's length.
seed=${IPCX_T_SEED:-$$}
echo "seed $seed"
start=$(date +%s%N)
$T "$IPCX" tour >/dev/null 2>&1
len=$((($(date +%s%N) - start) / 1000000))
i=0
while [ $i -lt 5 ]; do
	ms=$(python3 -c "import random; random.seed($seed + $i); print(random.randint(0, $len))")
	$T "$IPCX" tour >/dev/null 2>"$tmp/int" &
	pid=$!
	python3 -c "import time; time.sleep($ms / 1000)"
	kill -INT $pid 2>/dev/null
	wait $pid
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 130 ] || fail "tour interrupted after ${ms} ms exits $rc"
	# The tour's children end with it: wait (5 s at most) for the last of
	# them to be gone, since one may still be closing its objects.
	n=0
	left=$(objects)
	while [ "$left" != "$before" ] && [ $n -lt 50 ]; do
		python3 -c "import time; time.sleep(0.1)"
		left=$(objects)
		n=$((n + 1))
	done
	[ "$left" = "$before" ] || fail "SIGINT after ${ms} ms left: $left"
	i=$((i + 1))
done
[ $fails -eq 0 ] && echo "ok: tour, --json, --lang ko, NO_COLOR, 5 interrupts"
[ $fails -eq 0 ]
