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

# Nothing left behind by this run (only its own names: other benchmarks
# may run on the machine at the same time).
check_left() {
	bpid=$(grep -o 'ipcx-bench-[0-9]*-' "$1" | head -n 1)
	[ -n "$bpid" ] || return 0
	left=
	for f in /dev/shm/$bpid* /dev/shm/sem.$bpid* /dev/shm/semshm.$bpid* \
		/tmp/$bpid*; do
		[ -e "$f" ] && left="$left $f"
	done
	if [ -d /dev/mqueue ]; then
		for f in /dev/mqueue/$bpid*; do
			[ -e "$f" ] && left="$left $f"
		done
	fi
	check "left behind:$left" [ -z "$left" ]
}
check_left "$dir/out.json"

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
check_left "$dir/out.json"
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
check_left "$dir/mq.json"
# Keys 0x1b000000-0x1dffffff: the engine's (endpoint.c, msgq.c).
check "System V queues left behind" [ "$(awk 'NR > 1 && $1 >= 452984832 && $1 < 503316480' /proc/sysvipc/msg)" = "" ]

# ---- the default set: every mechanism beside its bare row, a chart ----
# (the row names and baselines below grow as mechanisms land)
$T "$IPCX" bench --quick --idle 0 --timeout 20000 --json "$dir/all.json" \
	--svg "$dir/all.svg" >"$dir/table" 2>"$dir/err"
rc=$?
check "ipcx bench --quick --json --svg exited $rc: $(tail -n 3 "$dir/err")" [ $rc -eq 0 ]
check "stderr is not empty (no progress into a file)" [ ! -s "$dir/err" ]
cp "$dir/all.json" "$dir/out.json" # field() reads out.json
for rs in 'shm?wait=spin:64:cache-line ping-pong' \
	'shm?wait=spin zero-copy:64:cache-line ping-pong' \
	'shm:64:cache-line ping-pong' 'shm zero-copy:64:cache-line ping-pong' \
	'semshm:64:bare sem_post/sem_wait' 'pipe:64:bare pipe' \
	'fifo:64:bare pipe' 'unix:64:bare socketpair' 'tcp:64:bare socketpair' \
	'udp:64:bare socketpair' 'mq:64:bare mq' 'sysv-mq:64:bare sysv-mq' \
	'sem:0:bare sem_post/sem_wait' 'sysv-sem:0:bare sem_post/sem_wait' \
	'pipe:65536:bare pipe' 'unix:65536:bare socketpair' \
	'file:64:bare spool rename' 'file:65536:bare spool rename' \
	'signal:8:bare sigqueue'; do
	row=${rs%%:*} rest=${rs#*:}
	size=${rest%%:*} base=${rest#*:}
	st=$(field "$row" "$size" status)
	if [ "$st" != ok ]; then
		fail "row '$row' at $size: status '$st' ($(field "$row" "$size" note))"
		continue
	fi
	for k in rtt_p50_ns rtt_p99_ns rtt_p999_ns msgs_per_s cpu_ns_per_msg; do
		v=$(field "$row" "$size" $k)
		# Events report their stream over the child's pipe, without
		# the child's CPU: no CPU figure for them yet.
		[ "$size:$k" = 0:cpu_ns_per_msg ] && continue
		check "row '$row' at $size: $k is '$v'" positive "$v"
	done
	v=$(field "$row" "$size" bytes_per_s)
	case "$size:$v" in
	0:0 | *:[1-9]*) ok ;; # events carry no bytes
	*) fail "row '$row' at $size: bytes_per_s is '$v'" ;;
	esac
	v=$(field "$row" "$size" baseline)
	check "row '$row' at $size: baseline '$v', not '$base'" [ "$v" = "$base" ]
	v=$(field "$row" "$size" baseline_ratio)
	check "row '$row' at $size: baseline_ratio is '$v'" positive "$v"
	# The baseline row itself, measured in the same run.
	bsize=$size
	case $base in
	cache-line*) bsize=64 ;;
	"bare sem_post/sem_wait") bsize=0 ;;
	"bare sigqueue") bsize=8 ;;
	esac
	st=$(field "$base" "$bsize" status)
	check "baseline '$base' at $bsize: status '$st'" [ "$st" = ok ]
	for k in rtt_p50_ns rtt_p99_ns rtt_p999_ns; do
		v=$(field "$base" "$bsize" $k)
		check "baseline '$base' at $bsize: $k is '$v'" positive "$v"
	done
done
for base in 'bare pipe' 'bare socketpair' 'bare mq' 'bare sysv-mq'; do
	for k in msgs_per_s bytes_per_s cpu_ns_per_msg; do
		v=$(field "$base" 64 $k)
		check "baseline '$base': $k is '$v'" positive "$v"
	done
done
# Every row carries every key (null where a figure does not apply).
n=$(grep -c '^{"transport": ' "$dir/all.json")
for k in transport size rtt_p50_ns rtt_p99_ns rtt_p999_ns msgs_per_s \
	bytes_per_s cpu_ns_per_msg baseline; do
	m=$(grep -c "\"$k\": " "$dir/all.json")
	check "$k in $m of $n rows" [ "$m" -ge "$n" ]
done
check "the table names the baseline and the ratio" grep -q \
	'^pipe  *64 kernel .* [0-9.]*x bare pipe' "$dir/table"
if command -v python3 >/dev/null 2>&1; then
	check "the SVG does not parse" python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
for want in ("bare pipe", "bare socketpair", "Linux", "CPUs"):
	assert want in texts, want
' "$dir/all.svg"
fi
check_left "$dir/all.json"

# ---- nats:// only when listed: measured, or skipped with the reason ----
$T "$IPCX" bench --quick --no-baselines -t nats -s 64 \
	--json "$dir/out.json" >"$dir/table" 2>"$dir/err"
rc=$?
check "-t nats exited $rc" [ $rc -eq 0 ]
case $(field nats 64 status) in
ok) ok ;; # a server runs on this machine
skipped) check "nats skipped without the reason" grep -q \
	'skipped: .*no NATS server answers' "$dir/table" ;;
*) fail "nats: status '$(field nats 64 status)'" ;;
esac
check "nats in the default set" [ -z "$(grep '"transport": "nats' "$dir/all.json")" ]

# ---- usage errors exit 2 with one line on stderr ----
for args in "-x" "-s 1G" "-s abc" "-n 0" "-r 0" "-r 101" "-t nosuch" "-t pipe extra" "--idle -1" "--timeout 0" "-n" \
	"-t tcp@nats://127.0.0.1:1" "-t nats://127.0.0.1:1/x@nats://127.0.0.1:2/y"; do
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
