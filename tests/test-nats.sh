#!/bin/bash
# test-nats.sh - nats:// against real nats-server processes on loopback: one
# server; a three-node cluster where a message published on node A reaches
# a subscriber on node C; a queue group of two receivers splitting 1,000
# messages with none lost or doubled; a JetStream durable receiver SIGKILLed
# mid-stream whose successor gets the rest; one node of the cluster killed
# while traffic flows, the clients on the others carrying on. Servers are
# started on free loopback ports and stopped by pid. Exit 0 pass, 1 fail,
# 77 skip (no nats-server, or ipcx built without nats://).
IPCX=${IPCX:-$(pwd)/build/ipcx}
[ -x "$IPCX" ] || { echo "no ipcx binary at $IPCX (build it: make)"; exit 77; }
command -v nats-server >/dev/null 2>&1 || { echo "nats-server is not installed (scripts/install-deps)"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed"; exit 77; }
case $IPCX in
*build-asan/* | *build-tsan/*)
	echo "nats:// is tested in the plain build (the NATS client library is not instrumented)"
	exit 77 ;;
esac
if "$IPCX" send nats://127.0.0.1:1/x x 2>&1 | grep -q "not supported in this build"; then
	echo "ipcx was built without nats:// (install libnats-dev and rebuild)"
	exit 77
fi

# nats_start, nats_cluster3, nats_stop_all, nats_until, nats_free_ports
# shellcheck source=lib/nats.sh
. "$(dirname "$0")/lib/nats.sh"

dir=$(mktemp -d /tmp/ipcx-tnats.XXXXXX) || exit 1
fails=0
cleanup() {
	local servers=" $NATS_PIDS "
	for p in $(jobs -p); do
		[[ $servers == *" $p "* ]] || kill -9 "$p" 2>/dev/null
	done
	nats_stop_all
	wait 2>/dev/null
	[ -n "$T_KEEP" ] || rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
T="timeout -k 5 60"

# lines_at_least FILE N: FILE has N lines or more.
lines_at_least() { [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ]; }

# ready EP FILE...: publish "probe" on EP until every receiver writing one of
# the FILEs has printed one: then the subscriptions have reached the server
# (and, in a cluster, the node that EP names). Plain subscribers miss what
# was published before they subscribed, so the tests wait for this.
ready() {
	local ep=$1 end=$((SECONDS + 20)) f all
	shift
	while [ $SECONDS -lt $end ]; do
		"$IPCX" send "$ep" probe 2>/dev/null
		all=1
		for f in "$@"; do grep -qx probe "$f" 2>/dev/null || all=0; done
		[ $all -eq 1 ] && return 0
		sleep 0.05
	done
	return 1
}
# msgs FILE: what a receiver printed, probes and the end mark left out.
msgs() { grep -vx -e probe -e end "$1"; }
# finish EP FILE PID: send the end mark, wait until FILE shows it, stop PID.
has_end() { grep -qx end "$1" 2>/dev/null; }
finish() {
	"$IPCX" send "$1" end
	nats_until 20 has_end "$2" || fail "the end mark never reached $2"
	kill "$3" 2>/dev/null
	wait "$3" 2>/dev/null
}

# ---- one server -------------------------------------------------------------
read -r p1 m1 <<<"$(nats_free_ports 2)"
nats_start solo "$p1" "$m1" "$dir" -js -sd "$dir/js-solo" || { fail "server solo did not start"; exit 1; }
pid_solo=$nats_pid
ep="nats://127.0.0.1:$p1/ipcx.t.solo"
$T "$IPCX" recv "$ep" -t 5000 >"$dir/solo.out" 2>/dev/null &
rpid=$!
ready "$ep" "$dir/solo.out" || fail "the receiver never subscribed"
$T "$IPCX" send "$ep" one two three || fail "send to one server"
finish "$ep" "$dir/solo.out" $rpid
[ "$(msgs "$dir/solo.out")" = "$(printf 'one\ntwo\nthree')" ] && ok "one server: 3 messages in order" ||
	fail "one server: got $(cat "$dir/solo.out")"

# Errors: no server, oversized, a sender with ?queue=.
read -r dead <<<"$(nats_free_ports 1)"
out=$($T "$IPCX" send "nats://127.0.0.1:$dead/x" hi 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no NATS server answers at nats://127.0.0.1:$dead" &&
	ok "no server: $out" || fail "no server: $out"
out=$(head -c 1048577 /dev/zero | $T "$IPCX" send --raw "$ep" 2>&1)
echo "$out" | grep -q "max_payload 1048576" && ok "too large names max_payload" || fail "too large: $out"
out=$($T "$IPCX" send "$ep?queue=g" hi 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "for receivers" && ok "a sender refuses ?queue=" || fail "sender queue: $out"

# ---- a queue group of two splits 1,000 -------------------------------------
qep="nats://127.0.0.1:$p1/ipcx.t.q?queue=workers"
$T "$IPCX" recv "$qep" -t 2000 >"$dir/q1.out" 2>/dev/null &
q1=$!
$T "$IPCX" recv "$qep" -t 2000 >"$dir/q2.out" 2>/dev/null &
q2=$!
ready "nats://127.0.0.1:$p1/ipcx.t.q" "$dir/q1.out" "$dir/q2.out" ||
	fail "the queue receivers never subscribed"
seq 1 1000 | $T "$IPCX" send "nats://127.0.0.1:$p1/ipcx.t.q" || fail "send 1000"
wait $q1
wait $q2
n1=$(msgs "$dir/q1.out" | wc -l)
n2=$(msgs "$dir/q2.out" | wc -l)
uniq_all=$(cat "$dir/q1.out" "$dir/q2.out" | grep -vx probe | sort -n | uniq | wc -l)
dups=$(cat "$dir/q1.out" "$dir/q2.out" | grep -vx probe | sort -n | uniq -d | wc -l)
if [ "$uniq_all" -eq 1000 ] && [ "$dups" -eq 0 ] && [ $((n1 + n2)) -eq 1000 ]; then
	ok "queue group: $n1 + $n2 = 1000, none lost or doubled"
else
	fail "queue group: $n1 + $n2, $uniq_all distinct, $dups doubled"
fi

# ---- JetStream: a durable receiver killed mid-stream ------------------------
jep="nats://127.0.0.1:$p1/ipcx.t.jobs?stream=IPCXT"
# 1,000 messages of 200 bytes: more than a pipe holds, so the receiver
# below still has messages to take when it is killed.
pad=$(printf '%0200d' 0)
seq 1 1000 | sed "s/\$/ $pad/" | $T "$IPCX" send "$jep" || fail "send 1000 into the stream"
# The receiver writes into a FIFO that a slow reader drains, so it is
# killed while messages are still flowing to it.
mkfifo "$dir/jfifo"
python3 -c '
import os, sys, time
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        out.write(line)
        out.flush()
        if not os.path.exists(sys.argv[3]):
            time.sleep(0.01)
' "$dir/jfifo" "$dir/j1.out" "$dir/jkilled" &
reader=$!
# Not under timeout(1): the SIGKILL below must reach ipcx itself.
"$IPCX" recv "$jep&durable=w" -t 5000 >"$dir/jfifo" 2>/dev/null &
j1=$!
nats_until 30 lines_at_least "$dir/j1.out" 100 || fail "the durable receiver stalled"
kill -9 $j1
: >"$dir/jkilled"
wait $j1 2>/dev/null
wait $reader
got1=$(wc -l <"$dir/j1.out")
# What the killed receiver held comes again after the consumer's ack wait
# (5 s for a durable ipcx creates): successors take what is left until all
# 1,000 have arrived or 60 s have passed.
: >"$dir/j2.out"
distinct() { cat "$dir/j1.out" "$dir/j2.out" | cut -d' ' -f1 | sort -n | uniq | wc -l; }
end=$((SECONDS + 60))
while [ "$(distinct)" -lt 1000 ] && [ $SECONDS -lt $end ]; do
	$T "$IPCX" recv "$jep&durable=w" -t 3000 >>"$dir/j2.out" 2>/dev/null
done
uniq_all=$(distinct)
dups=$(cat "$dir/j1.out" "$dir/j2.out" | cut -d' ' -f1 | sort -n | uniq -d | wc -l)
[ "$got1" -lt 1000 ] || fail "the durable receiver was not killed mid-stream ($got1)"
[ "$uniq_all" -eq 1000 ] && ok "durable killed after $got1: the next receiver got the rest, none lost, $dups delivered twice" ||
	fail "durable: $uniq_all of 1000 distinct ($got1 before the kill, $dups twice)"
"$IPCX" rm "$jep" || fail "ipcx rm the stream"
out=$("$IPCX" rm "$jep" 2>&1)
echo "$out" | grep -q "no JetStream stream 'IPCXT'" && ok "rm names a missing stream" || fail "rm twice: $out"
# ---- bridge: a local shm:// fast path out to NATS and back in ---------------
ring=ipcx-t$$-nats
hub="nats://127.0.0.1:$p1/ipcx.t.hub"
$T "$IPCX" recv "$hub" -t 5000 >"$dir/hub.out" 2>/dev/null &
hubrx=$!
$T "$IPCX" bridge -t 10000 "shm://$ring-out" "$hub" 2>"$dir/bridge1.err" &
b1=$!
ready "$hub" "$dir/hub.out" || fail "the hub receiver never subscribed"
seq 1 100 | $T "$IPCX" send -t 10000 "shm://$ring-out" || fail "send into the out ring"
"$IPCX" send -t 10000 "shm://$ring-out" end
nats_until 20 has_end "$dir/hub.out" || fail "the bridge never carried the end mark out"
kill "$hubrx" "$b1" 2>/dev/null
wait "$hubrx" "$b1" 2>/dev/null
[ "$(msgs "$dir/hub.out")" = "$(seq 1 100)" ] && ok "bridge shm:// -> nats://: 100 in order" ||
	fail "bridge out: $(msgs "$dir/hub.out" | wc -l) of 100: $(cat "$dir/bridge1.err")"
$T "$IPCX" recv "shm://$ring-in" -t 10000 >"$dir/in.out" 2>/dev/null &
inrx=$!
$T "$IPCX" bridge -t 10000 "$hub" "shm://$ring-in" 2>"$dir/bridge2.err" &
b2=$!
ready "$hub" "$dir/in.out" || fail "the bridge never subscribed to the hub"
seq 101 200 | $T "$IPCX" send "$hub" || fail "publish to the hub"
"$IPCX" send "$hub" end
nats_until 20 has_end "$dir/in.out" || fail "the bridge never carried the end mark in"
kill "$inrx" "$b2" 2>/dev/null
wait "$inrx" "$b2" 2>/dev/null
[ "$(msgs "$dir/in.out")" = "$(seq 101 200)" ] && ok "bridge nats:// -> shm://: 100 in order" ||
	fail "bridge in: $(msgs "$dir/in.out" | wc -l) of 100: $(cat "$dir/bridge2.err")"
"$IPCX" rm "shm://$ring-out" "shm://$ring-in"

kill "$pid_solo"

# ---- a cluster of three ------------------------------------------------------
nats_cluster3 "$dir" || { fail "the cluster did not form"; exit 1; }
pa=$NATS_PA pb=$NATS_PB pc=$NATS_PC pid_A=$NATS_PID_A
$T "$IPCX" recv "nats://127.0.0.1:$pc/ipcx.t.c" -t 5000 >"$dir/c.out" 2>/dev/null &
rpid=$!
ready "nats://127.0.0.1:$pa/ipcx.t.c" "$dir/c.out" || fail "node A never heard of C's subscriber"
seq 1 5 | $T "$IPCX" send "nats://127.0.0.1:$pa/ipcx.t.c" || fail "send on node A"
finish "nats://127.0.0.1:$pa/ipcx.t.c" "$dir/c.out" $rpid
[ "$(msgs "$dir/c.out")" = "$(seq 1 5)" ] && ok "cluster: published on A, received on C" ||
	fail "cluster: got $(cat "$dir/c.out")"

# ---- ipcx bench across the cluster: parent on A, echo child on C -----------
$T "$IPCX" bench --quick --no-baselines -s 64 -t "nats://127.0.0.1:$pa@nats://127.0.0.1:$pc" \
	--json "$dir/bench.json" >"$dir/bench.out" 2>&1
row=$(grep '"transport": "nats://' "$dir/bench.json")
if echo "$row" | grep -q '"status": "ok"' && echo "$row" | grep -q '"rtt_p50_ns": [0-9]' &&
	echo "$row" | grep -q '"msgs_per_s": [0-9]'; then
	ok "bench across nodes A -> C: $(grep -o '"rtt_p50_ns": [0-9]*' <<<"$row")"
else
	fail "bench across nodes: $(cat "$dir/bench.out")"
fi

# ---- one node dies while traffic flows --------------------------------------
# The receiver's lines go to f.out, and with their arrival time (ns since
# the epoch, like date +%s%N) to f.times.
$T "$IPCX" recv "nats://127.0.0.1:$pc/ipcx.t.f" 2>/dev/null > >(python3 -c '
import sys, time
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as ts:
    for line in sys.stdin:
        ts.write("%d %s" % (time.time_ns(), line))
        ts.flush()
        out.write(line)
        out.flush()
' "$dir/f.out" "$dir/f.times") &
rpid=$!
ready "nats://127.0.0.1:$pa/ipcx.t.f" "$dir/f.out" || fail "node A never heard of the failover subscriber"
ready "nats://127.0.0.1:$pb/ipcx.t.f" "$dir/f.out" || fail "node B never heard of the failover subscriber"
# 2,000 messages, 1 ms apart, through A (B listed too); A dies at 500.
python3 - "$dir/sent" <<'PY' | $T "$IPCX" send "nats://127.0.0.1:$pa,127.0.0.1:$pb/ipcx.t.f" 2>"$dir/fsend.err" &
import sys, time
for i in range(1, 2001):
    print(i, flush=True)
    if i == 500:
        open(sys.argv[1], "w").close()
    time.sleep(0.001)
PY
spid=$!
nats_until 30 test -e "$dir/sent" || fail "the sender never got to 500"
t_kill=$(date +%s%N)
kill -9 "$pid_A"
wait "$pid_A" 2>/dev/null # reaped quietly (no "Killed" line)
wait "$spid" || fail "the sender did not carry on after node A died: $(cat "$dir/fsend.err")"
t_on=$(date +%s%N)
finish "nats://127.0.0.1:$pb/ipcx.t.f" "$dir/f.out" $rpid
msgs "$dir/f.out" >"$dir/f.msgs"
last_before=$(awk '$1 <= 500' "$dir/f.msgs" | wc -l)
got=$(sort -n "$dir/f.msgs" | uniq | wc -l)
dups=$(sort -n "$dir/f.msgs" | uniq -d | wc -l)
after=$(awk '$1 > 1000' "$dir/f.msgs" | wc -l)
# The longest silence at the receiver after the kill: how long the
# sender's client took to find B and carry on (messages come ~1 ms apart).
gap=$(awk -v k="$t_kill" '$2 ~ /^[0-9]+$/ && $1 >= k - 1e8 {
	if (prev && $1 - prev > g) g = $1 - prev
	prev = $1
} END { printf "%d", g / 1e6 }' "$dir/f.times")
lost=$(sort -u "$dir/f.msgs" | comm -13 - <(seq 1 2000 | sort) | sort -n | head -8 | paste -sd' ')
echo "failover: the sender's 1,500 messages after the kill took $(((t_on - t_kill) / 1000000)) ms (sent 1 ms apart); the receiver heard nothing for $gap ms at most; $got of 2000 distinct arrived ($((2000 - got)) lost${lost:+: $lost}, $dups twice); $last_before of the first 500; $after of the last 1000"
[ "$after" -gt 0 ] && ok "failover: the clients on B and C carried on after A died" ||
	fail "failover: nothing arrived after node A died"

[ $fails -eq 0 ]
