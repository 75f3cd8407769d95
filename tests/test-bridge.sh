#!/bin/sh
# test-bridge.sh - `ipcx bridge A B` end to end.
#
# Order across mechanisms (unix abstract -> unix path, shm -> unix,
# unix -> shm, pipe -> fifo); a message too large for B is reported with
# its size and stays unread in a shm:// A (exit 1), or is skipped with
# --skip-oversize; SIGTERM while traffic flows loses nothing: with a shm://
# A, what B received plus what is still in A is every message the sender
# had acknowledged, in order; with a unix:// A, whatever A had buffered is
# still delivered. Run by tests/run.sh with IPCX set; exit 0 pass, 1 fail,
# 77 skip. No fixed sleeps: peers wait with -t, conditions are polled,
# bounded.

. "$(dirname "$0")/lib/cli.sh"
cli_need seq cmp head wc
dir=$(mktemp -d /tmp/ipcx-tbr.XXXXXX) || exit 1
shm=ipcx-tbr-$$
abs=ipcx-tbr-$$

cleanup() {
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for n in src dst big small term; do
		rm -f "/dev/shm/$shm-$n"
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

lines_at_least() { [ "$(wc -l <"$2" 2>/dev/null || echo 0)" -ge "$1" ]; }

# relay NAME A B N: N numbered messages sent to A arrive at B in order.
# B's receiver starts first, then the bridge, then the sender (which
# waits with -t for A to appear).
relay() {
	name=$1 a=$2 b=$3 n=$4
	rm -f "$dir/out" "$dir/rerr" "$dir/berr" "$dir/serr"
	seq 1 "$n" >"$dir/want"
	$T "$IPCX" recv "$b" -n "$n" -t $WAIT >"$dir/out" 2>"$dir/rerr" &
	rpid=$!
	case $b in shm://*) poll_until "ring $b" ring_ready "${b#shm://}" ;; esac
	$T "$IPCX" bridge -n "$n" -t $WAIT "$a" "$b" 2>"$dir/berr" &
	bpid=$!
	$T "$IPCX" send -t $WAIT "$a" <"$dir/want" 2>"$dir/serr"
	src=$?
	wait $bpid
	brc=$?
	wait $rpid
	rrc=$?
	if [ $src -eq 0 ] && [ $brc -eq 0 ] && [ $rrc -eq 0 ] &&
		cmp -s "$dir/want" "$dir/out"; then
		ok "$name: $n messages in order"
	else
		echo "     send exit $src, bridge exit $brc, recv exit $rrc"
		bad "$name" "$dir/out" "$dir/rerr" "$dir/berr" "$dir/serr"
	fi
}

relay "unix abstract -> unix path" "unix://@$abs-a" "unix://$dir/b.sock" 200
relay "shm -> unix" "shm://$shm-src" "unix://@$abs-b" 200
relay "unix -> shm" "unix://@$abs-c" "shm://$shm-dst" 200
relay "mq -> unix" "mq://$shm-mq" "unix://@$abs-d" 200
# A burst: bridge forwards what A has ready in batches (one ipcx_sendv).
relay "unix -> fifo, batched" "unix://@$abs-e" "fifo://$dir/bf" 20000
rm -f "$dir/bf"
"$IPCX" rm "mq://$shm-mq"
"$IPCX" rm "shm://$shm-src" "shm://$shm-dst"

# pipe -> fifo: A is stdin (framed by ipcx send pipe://); its end of
# file ends the bridge (exit 0).
seq 1 100 >"$dir/want"
rm -f "$dir/out"
$T "$IPCX" recv "fifo://$dir/f" -n 100 -t $WAIT >"$dir/out" 2>"$dir/rerr" &
rpid=$!
$T "$IPCX" send pipe:// <"$dir/want" |
	$T "$IPCX" bridge -t $WAIT pipe:// "fifo://$dir/f" 2>"$dir/berr"
brc=$?
wait $rpid
rrc=$?
if [ $brc -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want" "$dir/out"; then
	ok "pipe -> fifo: 100 messages in order, end of stdin ends bridge"
else
	echo "     bridge exit $brc, recv exit $rrc"
	bad "pipe -> fifo" "$dir/out" "$dir/berr" "$dir/rerr"
fi
rm -f "$dir/f"

# Too large for B: shm://small (4 KiB ring: at most 1984 bytes a message).
head -c 3000 /dev/zero | tr '\0' x >"$dir/big3000"
$T "$IPCX" recv "shm://$shm-small?size=4096" -n 2 -t $WAIT \
	>"$dir/out" 2>"$dir/rerr" &
rpid=$!
poll_until "ring small" ring_ready "$shm-small"
$T "$IPCX" send -t $WAIT "shm://$shm-big" --raw <"$dir/big3000" &
spid=$!
$T "$IPCX" bridge -t $WAIT "shm://$shm-big" "shm://$shm-small" \
	2>"$dir/berr"
brc=$?
wait $spid
$T "$IPCX" recv "shm://$shm-big" --raw -n 1 -t $WAIT >"$dir/left" \
	2>"$dir/lerr"
if [ $brc -eq 1 ] && grep -q "3000 bytes.*too large.*stays unread" \
	"$dir/berr" && cmp -s "$dir/big3000" "$dir/left"; then
	ok "oversize: reported with its size, exit 1, the message stays in A"
else
	echo "     bridge exit $brc"
	bad "oversize: reported, stays in A" "$dir/berr" "$dir/lerr"
fi
# --skip-oversize: a, the big one, b -> B gets a and b; the skip is said.
{
	$T "$IPCX" send -t $WAIT "shm://$shm-big" a &&
		$T "$IPCX" send -t $WAIT "shm://$shm-big" --raw <"$dir/big3000" &&
		$T "$IPCX" send -t $WAIT "shm://$shm-big" b
} &
spid=$!
$T "$IPCX" bridge -n 3 -v --skip-oversize -t $WAIT "shm://$shm-big" \
	"shm://$shm-small" 2>"$dir/berr"
brc=$?
wait $spid
wait $rpid
rrc=$?
printf 'a\nb\n' >"$dir/want"
if [ $brc -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want" "$dir/out" &&
	grep -q "3000 bytes.*too large.*skipped" "$dir/berr" &&
	grep -q "1 too large for B skipped" "$dir/berr"; then
	ok "--skip-oversize: reported, skipped, the others relayed"
else
	echo "     bridge exit $brc, recv exit $rrc"
	bad "--skip-oversize" "$dir/out" "$dir/berr" "$dir/rerr"
fi
"$IPCX" rm "shm://$shm-big" "shm://$shm-small"

# SIGTERM while traffic flows, shm:// A: every message the sender had
# acknowledged is either at B or still in A, in order, none twice.
N=20000
seq 1 $N >"$dir/want"
rm -f "$dir/out" "$dir/rest"
"$IPCX" recv "unix://$dir/t.sock" -t 3000 >"$dir/out" 2>"$dir/rerr" &
rpid=$!
$T "$IPCX" send -t $WAIT "shm://$shm-term" <"$dir/want" 2>"$dir/serr" &
spid=$!
"$IPCX" bridge -t $WAIT "shm://$shm-term" "unix://$dir/t.sock" \
	2>"$dir/berr" &
bpid=$!
wait $spid
src=$?
poll_until "first messages at B" lines_at_least 1 "$dir/out"
kill -TERM $bpid
wait $bpid
brc=$?
# What is left in A: take it until A stays empty for a second.
$T "$IPCX" recv "shm://$shm-term" -t 1000 >"$dir/rest" 2>/dev/null
wait $rpid
got=$(wc -l <"$dir/out")
left=$(wc -l <"$dir/rest")
if [ $src -eq 0 ] && [ $brc -eq 143 ] &&
	cat "$dir/out" "$dir/rest" | cmp -s "$dir/want" -; then
	ok "SIGTERM mid-stream (shm A): $got at B + $left still in A = $N acknowledged, in order"
else
	echo "     send exit $src, bridge exit $brc; $got at B, $left in A"
	bad "SIGTERM mid-stream (shm A)" "$dir/berr" "$dir/rerr"
fi
"$IPCX" rm "shm://$shm-term"

# SIGTERM with a unix:// A: what A had buffered is still delivered.
N=2000
seq 1 $N >"$dir/want"
rm -f "$dir/out"
"$IPCX" recv "unix://$dir/u.sock" -n $N -t $WAIT >"$dir/out" \
	2>"$dir/rerr" &
rpid=$!
"$IPCX" bridge -t $WAIT "unix://@$abs-term" "unix://$dir/u.sock" \
	2>"$dir/berr" &
bpid=$!
$T "$IPCX" send -t $WAIT "unix://@$abs-term" <"$dir/want" 2>"$dir/serr"
src=$?
poll_until "first messages at B" lines_at_least 1 "$dir/out"
kill -TERM $bpid
wait $bpid
brc=$?
wait $rpid
rrc=$?
if [ $src -eq 0 ] && [ $brc -eq 143 ] && [ $rrc -eq 0 ] &&
	cmp -s "$dir/want" "$dir/out"; then
	ok "SIGTERM (unix A): all $N acknowledged messages delivered, in order"
else
	echo "     send exit $src, bridge exit $brc, recv exit $rrc;" \
		"$(wc -l <"$dir/out") at B"
	bad "SIGTERM (unix A)" "$dir/berr" "$dir/rerr" "$dir/serr"
fi

# Usage.
for args in "" "unix://@x" "a b c" "-n 0 a b" "-t x a b"; do
	# shellcheck disable=SC2086
	$T "$IPCX" bridge $args >/dev/null 2>"$dir/uerr" </dev/null
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$dir/uerr")" -eq 1 ]; then
		ok "bridge $args: usage error (exit 2)"
	else
		bad "bridge $args: exit $rc, want 2" "$dir/uerr"
	fi
done

if [ $fails -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
exit 0
