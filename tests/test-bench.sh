#!/bin/sh
# test-bench.sh - `ipcx bench` end to end: a tiny run whose JSON must hold
# every field for every row asked for, usage errors, and no leftovers.
#
# Run by tests/run.sh with IPCX set to the binary's absolute path. Exit 0
# pass, 1 fail, 77 skip. Speed is never asserted: figures only have to be
# present and positive, whatever the machine's load.

IPCX=${IPCX:-$(pwd)/build/ipcx}
if [ ! -x "$IPCX" ]; then
	echo "no ipcx binary at $IPCX (build it: make)"
	exit 77
fi
for tool in timeout awk grep; do
	command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed"; exit 77; }
done

T="timeout -k 5 ${T_BENCH_LIMIT:-90}"
dir=$(mktemp -d /tmp/ipcx-tbench.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
fails=0
checks=0

ok() { checks=$((checks + 1)); }
fail() {
	checks=$((checks + 1))
	fails=$((fails + 1))
	echo "FAIL: $*"
}

# The value of key in the JSON row of transport at size (rows are one per
# line), "" when absent.
field() {
	awk -v t="$1" -v s="$2" -v k="$3" '
	index($0, "{\"transport\": \"" t "\",") == 1 && index($0, "\"size\": " s ",") {
		re = "\"" k "\": (\"[^\"]*\"|[^,}]*)"
		if (match($0, re)) {
			v = substr($0, RSTART + length(k) + 4, RLENGTH - length(k) - 4)
			gsub(/"/, "", v)
			print v
			exit
		}
	}' "$dir/out.json"
}

# check DESCRIPTION COMMAND...: count a pass if COMMAND succeeds.
check() {
	desc=$1
	shift
	if "$@"; then ok; else fail "$desc"; fi
}

positive() {
	case $1 in '' | null | 0 | -* | *[!0-9.]*) return 1 ;; esac
	return 0
}

# ---- a tiny run: the spec's shape, few iterations ----
$T "$IPCX" bench --quick --idle 0.2 --timeout 20000 \
	-t 'shm://?wait=spin,shm,pipe' -s 64,4K --json "$dir/out.json" \
	>"$dir/table" 2>"$dir/err"
rc=$?
if [ $rc -ne 0 ]; then
	fail "ipcx bench exited $rc"
	sed 's/^/    /' "$dir/table" "$dir/err" | tail -n 40
else
	ok
fi

for row in 'shm?wait=spin' 'shm?wait=spin zero-copy' shm 'shm zero-copy' pipe 'bare pipe'; do
	for size in 64 4096; do
		st=$(field "$row" $size status)
		if [ "$st" != ok ]; then
			fail "row '$row' at $size: status '$st' ($(field "$row" $size note))"
			continue
		fi
		for k in rtt_p50_ns rtt_p99_ns rtt_p999_ns msgs_per_s bytes_per_s cpu_ns_per_msg; do
			v=$(field "$row" $size $k)
			check "row '$row' at $size: $k is '$v'" positive "$v"
		done
		w=$(field "$row" $size wait)
		case "$row:$w" in
		shm\?wait=spin*:spin | shm:adaptive | "shm zero-copy:adaptive" | pipe:kernel | "bare pipe:kernel") ok ;;
		*) fail "row '$row' at $size: wait is '$w'" ;;
		esac
	done
done
v=$(field "cache-line ping-pong" 64 rtt_p50_ns)
check "cache-line ping-pong p50 is '$v'" positive "$v"
v=$(field memcpy 4096 bytes_per_s)
check "memcpy bytes_per_s is '$v'" positive "$v"
check "idle receiver result missing from the JSON" grep -q \
	'"idle": {"endpoint": "shm://ipcx-bench-[0-9]*-[0-9]*-idle", "wait": "adaptive", "status": "ok", "window_s": [0-9.]*, "cpu_ms": [0-9.]*' \
	"$dir/out.json"
# The targets are printed and written (met or not: never asserted).
n=$(grep -c '^{"what": ' "$dir/out.json")
check "expected the target ratios in the JSON, found $n" [ "$n" -ge 3 ]
check "no targets in the table" grep -q '^targets (measured in this run):' "$dir/table"
check "the table does not say how it pinned" grep -q -E \
	'pinned: parent on CPU [0-9]+, child on CPU [0-9]+|not pinned' "$dir/table"

# Nothing left behind by this run.
left=
for f in /dev/shm/ipcx-bench-* /tmp/ipcx-bench-*; do
	[ -e "$f" ] && left="$left $f"
done
check "left behind:$left" [ -z "$left" ]

# ---- paced rows: --rate and --gaps, a bare pipe and shm, CPU per message ----
$T "$IPCX" bench --quick --no-baselines --idle 0 --timeout 20000 -t shm \
	-s 64 --rate 2000 --gaps 1ms --json "$dir/out.json" >"$dir/table" 2>"$dir/err"
rc=$?
if [ $rc -ne 0 ]; then
	fail "ipcx bench --rate --gaps exited $rc"
	sed 's/^/    /' "$dir/table" "$dir/err" | tail -n 20
else
	ok
fi
for row in 'bare pipe' shm; do
	n=$(grep -c "^{\"transport\": \"$row\",.*\"cpu_ns_per_msg\": [0-9].*\"pace\": \"[^\"]" "$dir/out.json")
	check "paced '$row': expected 2 rows with cpu_ns_per_msg, found $n" [ "$n" -eq 2 ]
	check "paced '$row' at 2000/s missing" grep -q "^{\"transport\": \"$row\",.*\"pace\": \"2000/s\"" "$dir/out.json"
	check "paced '$row' after 1 ms idle missing" grep -q "^{\"transport\": \"$row\",.*\"pace\": \"idle 1.00 ms\"" "$dir/out.json"
done
check "no paced table" grep -q '^paced one-way 64 B' "$dir/table"
for bad in '--rate 0' '--gaps 5' '--gaps 1ms,20s'; do
	# shellcheck disable=SC2086 # the option and its value are two words
	"$IPCX" bench $bad >/dev/null 2>&1
	check "ipcx bench $bad: want exit 2" [ $? -eq 2 ]
done

# ---- semaphores: events at size 0 with their bare baseline; semshm ----
$T "$IPCX" bench --quick --idle 0 --timeout 20000 -t sem,sysv-sem,semshm \
	-s 64,4K --json "$dir/out.json" >"$dir/table" 2>"$dir/err"
rc=$?
check "ipcx bench -t sem,sysv-sem,semshm exited $rc" [ $rc -eq 0 ]
for rs in 'sem:0' 'sysv-sem:0' 'bare sem_post/sem_wait:0' 'semshm:64' \
	'semshm:4096'; do
	row=${rs%:*} size=${rs##*:}
	st=$(field "$row" $size status)
	if [ "$st" != ok ]; then
		fail "row '$row' at $size: status '$st' ($(field "$row" $size note))"
		continue
	fi
	for k in rtt_p50_ns msgs_per_s; do
		v=$(field "$row" $size $k)
		check "row '$row' at $size: $k is '$v'" positive "$v"
	done
done
# Events are measured once, at size 0, not again at 4K.
check "a sem row at 4K" [ -z "$(field sem 4096 status)" ]
left=
for f in /dev/shm/sem.ipcx-bench-* /dev/shm/semshm.ipcx-bench-*; do
	[ -e "$f" ] && left="$left $f"
done
check "left behind:$left" [ -z "$left" ]
check "a System V set left behind" [ "$(awk -v p=$((0x42)) \
	'NR > 1 && int($1 / 16777216) == p' /proc/sysvipc/sem)" = "" ]

# ---- JSON on stdout, table on stderr ----
$T "$IPCX" bench --quick --no-baselines --no-pin -r 2 -t pipe -s 0,1 --json - \
	>"$dir/stdout" 2>"$dir/stderr"
rc=$?
check "--json - exited $rc" [ $rc -eq 0 ]
check "--json - did not put JSON on stdout" grep -q '^{$' "$dir/stdout"
check "--json - did not put the table on stderr" grep -q '^pipe  *0 kernel' "$dir/stderr"

# ---- the message queues: ipcx, bare system calls, CPU per message ----
$T "$IPCX" bench --quick --no-pin --timeout 20000 -t mq,sysv-mq -s 64 \
	--json "$dir/mq.json" >"$dir/table" 2>"$dir/err"
rc=$?
check "ipcx bench -t mq,sysv-mq exited $rc: $(tail -n 3 "$dir/err")" [ $rc -eq 0 ]
for q in mq sysv-mq; do
	for row in "$q" "bare $q" "$q cpu paced" "$q cpu b2b" "bare $q cpu paced" \
		"bare $q cpu b2b"; do
		st=$(awk -v t="$row" 'index($0, "{\"transport\": \"" t "\",") == 1 {
			if (match($0, /"status": "[a-z]*"/)) print substr($0, RSTART + 11, RLENGTH - 12) }' \
			"$dir/mq.json")
		check "row '$row': status '$st'" [ "$st" = ok ]
		v=$(awk -v t="$row" 'index($0, "{\"transport\": \"" t "\",") == 1 {
			if (match($0, /"msgs_per_s": [0-9.e+]*/)) print substr($0, RSTART + 14, RLENGTH - 14) }' \
			"$dir/mq.json")
		check "row '$row': msgs_per_s '$v'" positive "$v"
	done
done
check "the CPU rows say what a message costs" grep -q \
	'sysv-mq cpu paced .*CPU per message: receiver [0-9.]* us, sender' \
	"$dir/table"
left=$(ls /dev/mqueue 2>/dev/null | grep '^ipcx-bench-')
check "mq queues left behind: $left" [ -z "$left" ]
# Keys 0x1b000000-0x1dffffff: the engine's (endpoint.c, msgq.c).
check "System V queues left behind" [ "$(awk 'NR > 1 && $1 >= 452984832 && $1 < 503316480' /proc/sysvipc/msg)" = "" ]

# ---- usage errors exit 2 with one line on stderr ----
for args in "-x" "-s 1G" "-s abc" "-n 0" "-r 0" "-r 101" "-t nosuch" "-t pipe extra" "--idle -1" "--timeout 0" "-n"; do
	# shellcheck disable=SC2086
	$T "$IPCX" bench $args >"$dir/o" 2>"$dir/e"
	rc=$?
	lines=$(wc -l <"$dir/e")
	if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$dir/o" ]; then
		ok
	else
		fail "'ipcx bench $args': exit $rc, $lines lines on stderr"
	fi
done
$T "$IPCX" bench --help >"$dir/o" 2>&1
check "--help" grep -q '^usage: ipcx bench' "$dir/o"
$T "$IPCX" bench --version >"$dir/o" 2>&1
check "--version" grep -q '^ipcx ' "$dir/o"
# Options in any order; GNU permutation moves the stray word in
# "-t pipe extra -s 64" to the end, where it is refused (above).
$T "$IPCX" bench -s 64 --quick --no-baselines -t pipe --no-pin -r 1 >/dev/null 2>&1
check "options in another order" [ $? -eq 0 ]

echo "$((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
