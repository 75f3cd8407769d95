#!/bin/sh
# test-cli.sh - the ipcx command end to end, from the shell.
#
# Run by tests/run.sh with IPCX set to the binary's absolute path. Exit 0
# pass, 1 fail, 77 skip. Every command runs under `timeout`; the peers sync
# through `wait`, `send -t` (which waits for the receiver to appear) or a
# bounded poll for a condition, never a fixed sleep. Everything made here
# lives in one /tmp/ipcx-tcli.* directory, under shm names ipcx-tcli-<pid>-*
# or in the abstract namespace, and is removed at the end.
#
# A transport that is missing or broken fails here; it is never skipped.

IPCX=${IPCX:-$(pwd)/build/ipcx}
if [ ! -x "$IPCX" ]; then
	echo "no ipcx binary at $IPCX (build it: make)"
	exit 77
fi
for tool in timeout python3 cmp head awk; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "$tool is not installed"
		exit 77
	fi
done

# Every command gets at most LIMIT seconds; waits inside ipcx get WAIT ms.
LIMIT=${T_CLI_LIMIT:-30}
WAIT=15000
T="timeout -k 5 $LIMIT"

dir=$(mktemp -d /tmp/ipcx-tcli.XXXXXX) || exit 1
shm=ipcx-tcli-$$
abs=ipcx-tcli-$$
# System V keys for this run (below 0x80000000: /proc shows them positive).
sv1=$(printf '0x%08x' $(((($$ * 2654435761) & 0x0fffffff) | 0x30000000)))
sv2=$(printf '0x%08x' $(((($$ * 2654435761) & 0x0fffffff) | 0x40000000)))
sv3=$(printf '0x%08x' $(((($$ * 2654435761) & 0x0fffffff) | 0x50000000)))
fails=0
checks=0

cleanup() {
	# Background peers are normally reaped already; stop any left over.
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for n in rt1 rt2 raw stale busy from typo big full live; do
		rm -f "/dev/shm/$shm-$n"
	done
	for n in ev1 ev2 quiet; do
		rm -f "/dev/shm/sem.$shm-$n"
	done
	for n in rt1 rt2 stale; do
		"$IPCX" rm -f "semshm://$shm-$n" 2>/dev/null
	done
	for k in 1 2 3; do
		"$IPCX" rm -f "sysv-sem://$(sem_key $k)" 2>/dev/null
	done
	for n in mq1 mq2 mq3 mqsz; do
		"$IPCX" rm -f "mq://$shm-$n" 2>/dev/null
	done
	for k in $sv1 $sv2 $sv3; do
		"$IPCX" rm -f "sysv-mq://$k" 2>/dev/null
	done
	rm -rf "$dir"
}
# sem_key N: a System V key of this run's own.
sem_key() {
	printf '0x%x' $((0x4c000000 + ($$ & 0xffff) * 16 + $1))
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {
	checks=$((checks + 1))
	echo "ok   $1"
}

bad() {
	checks=$((checks + 1))
	fails=$((fails + 1))
	echo "FAIL $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed "s|^|     $(basename "$f"): |" "$f"
	done
}

# poll_until DESC CMD...: run CMD every 10 ms until it succeeds, at most
# LIMIT seconds. A bounded wait for a condition, not a timing assumption.
poll_until() {
	desc=$1
	shift
	n=$((LIMIT * 100))
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		if [ "$n" -le 0 ]; then
			echo "gave up waiting for $desc"
			return 1
		fi
		sleep 0.01
	done
}

free_port() { # tcp|udp
	python3 -c '
import socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}

# udp_bound PORT: some socket is bound to 127.0.0.1:PORT or *:PORT.
udp_bound() {
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/udp
}

# ring_ready NAME: /dev/shm/NAME starts with the ring magic (FORMAT.md 3),
# which its creator writes last.
ring_ready() {
	[ "$(head -c 4 "/dev/shm/$1" 2>/dev/null)" = IPXR ]
}

printf 'hello\ntwo words\n' >"$dir/want2"

# rt_recv_first NAME EP: receiver starts first, sender waits for it.
rt_recv_first() {
	name=$1 ep=$2
	rm -f "$dir/out" "$dir/rerr" "$dir/serr"
	$T "$IPCX" recv "$ep" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr" &
	rpid=$!
	if [ "${ep#udp://}" != "$ep" ]; then
		# UDP has no connection to wait for: wait until it is bound.
		poll_until "udp bind" udp_bound "${ep##*:}" >"$dir/serr"
	fi
	$T "$IPCX" send -t $WAIT "$ep" hello "two words" 2>>"$dir/serr"
	src=$?
	wait $rpid
	rrc=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want2" "$dir/out"
	then
		ok "$name: recv first, send second"
	else
		echo "     send exit $src, recv exit $rrc"
		bad "$name: recv first, send second" "$dir/out" "$dir/rerr" \
			"$dir/serr"
	fi
}

# rt_send_first NAME EP: the sender starts first and waits (-t) for the
# receiver, or (shm) leaves its messages in the ring.
rt_send_first() {
	name=$1 ep=$2
	rm -f "$dir/out" "$dir/rerr" "$dir/serr"
	$T "$IPCX" send -t $WAIT "$ep" hello "two words" 2>"$dir/serr" &
	spid=$!
	$T "$IPCX" recv "$ep" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr"
	rrc=$?
	wait $spid
	src=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want2" "$dir/out"
	then
		ok "$name: send first, recv second"
	else
		echo "     send exit $src, recv exit $rrc"
		bad "$name: send first, recv second" "$dir/out" "$dir/rerr" \
			"$dir/serr"
	fi
}

# rt_queued NAME EP: send, and only once the sender has exited, receive:
# the messages waited in the kernel object with nobody holding it.
rt_queued() {
	name=$1 ep=$2
	rm -f "$dir/out" "$dir/rerr" "$dir/serr"
	$T "$IPCX" send "$ep" hello "two words" 2>"$dir/serr"
	src=$?
	$T "$IPCX" recv "$ep" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr"
	rrc=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want2" "$dir/out"
	then
		ok "$name: sent, sender gone, then received"
	else
		echo "     send exit $src, recv exit $rrc"
		bad "$name: sent, sender gone, then received" "$dir/out" \
			"$dir/rerr" "$dir/serr"
	fi
}

# rt_raw NAME EP: 1 MiB of random bytes through --raw, compared with cmp.
rt_raw() {
	name=$1 ep=$2
	rm -f "$dir/got" "$dir/rerr" "$dir/serr"
	$T "$IPCX" recv --raw "$ep" -n 1 -t $WAIT >"$dir/got" 2>"$dir/rerr" &
	rpid=$!
	$T "$IPCX" send --raw -t $WAIT "$ep" <"$dir/big" 2>"$dir/serr"
	src=$?
	wait $rpid
	rrc=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/big" "$dir/got"
	then
		ok "$name: 1 MiB binary through --raw"
	else
		echo "     send exit $src, recv exit $rrc"
		bad "$name: 1 MiB binary through --raw" "$dir/rerr" "$dir/serr"
	fi
}

# expect_fail NAME WANT_RC CMD...: CMD exits WANT_RC ("nz": any non-zero
# that is not a crash or a timeout kill) with exactly one line on stderr
# starting with "ipcx".
expect_fail() {
	name=$1 want=$2
	shift 2
	$T "$@" >"$dir/fout" 2>"$dir/ferr" </dev/null
	rc=$?
	lines=$(wc -l <"$dir/ferr")
	case $want in
	nz) [ $rc -ne 0 ] && [ $rc -lt 124 ] && rcok=1 || rcok=0 ;;
	*) [ $rc -eq "$want" ] && rcok=1 || rcok=0 ;;
	esac
	if [ $rcok -eq 1 ] && [ "$lines" -eq 1 ] &&
		grep -q '^ipcx' "$dir/ferr"; then
		ok "$name (exit $rc: $(cat "$dir/ferr"))"
	else
		echo "     exit $rc (want $want), $lines lines on stderr"
		bad "$name" "$dir/fout" "$dir/ferr"
	fi
}

# expect_out NAME WANT CMD (a shell pipeline string): CMD prints WANT.
expect_out() {
	name=$1 want=$2 cmd=$3
	printf '%s' "$want" >"$dir/want"
	eval "$cmd" >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 0 ] && cmp -s "$dir/want" "$dir/out"; then
		ok "$name"
	else
		echo "     exit $rc"
		bad "$name" "$dir/out" "$dir/err"
	fi
}

echo "== round trips"

expect_out "pipe: arguments through a shell pipe" 'hello
two words
' '$T "$IPCX" send pipe:// hello "two words" | $T "$IPCX" recv pipe://'
expect_out "pipe: stdin lines, the last without newline" 'l1

l3
' 'printf "l1\n\nl3" | $T "$IPCX" send pipe:// | $T "$IPCX" recv pipe://'
expect_out "pipe: empty stdin sends nothing, recv ends at EOF" '' \
	'$T "$IPCX" send pipe:// </dev/null | $T "$IPCX" recv pipe://'
# Many lines: batched (one ipcx_sendv per read of stdin), every one whole
# and in order, a line longer than the first read buffer among them.
{ seq 1 30000; head -c 100000 /dev/zero | tr '\0' x; echo; seq 30001 40000; } \
	>"$dir/lines"
$T "$IPCX" send pipe:// <"$dir/lines" 2>"$dir/serr" |
	$T "$IPCX" recv pipe:// >"$dir/got" 2>"$dir/rerr"
if cmp -s "$dir/lines" "$dir/got"; then
	ok "pipe: 40,001 stdin lines batched, in order, a 100 kB one among them"
else
	bad "pipe: 40,001 stdin lines batched" "$dir/serr" "$dir/rerr"
fi

rt_recv_first fifo "fifo://$dir/fifo"
# A fresh path: the sender waits for the receiver to create the FIFO.
rt_send_first fifo "fifo://$dir/fifo2"
rt_recv_first "unix path" "unix://$dir/sock"
rt_send_first "unix path" "unix://$dir/sock"
rt_recv_first "unix abstract" "unix://@$abs-rt"
rt_send_first "unix abstract" "unix://@$abs-rt"
port=$(free_port tcp)
rt_recv_first tcp "tcp://127.0.0.1:$port"
rt_send_first tcp "tcp://127.0.0.1:$port"
# UDP: a datagram sent before the receiver is bound is lost, so only this
# order exists.
rt_recv_first udp "udp://127.0.0.1:$(free_port udp)"
rt_recv_first shm "shm://$shm-rt1"
rt_send_first shm "shm://$shm-rt2"
# Message queues: either end creates the queue, so what is sent first
# waits in it (rt_queued: the sender has exited before the receiver runs).
rt_recv_first mq "mq://$shm-mq1"
rt_send_first mq "mq://$shm-mq2"
rt_queued mq "mq://$shm-mq3"
rt_recv_first sysv-mq "sysv-mq://$sv1"
rt_send_first sysv-mq "sysv-mq://$sv2"
rt_queued sysv-mq "sysv-mq://$sv3"

rt_recv_first file "file://$dir/spool1"
# A spool keeps what is sent before any receiver comes.
rt_send_first file "file://$dir/spool2"

echo "== signal values"
# sig_listen: start `ipcx recv signal:// -n 3`; its pid comes from the
# line it prints first ($! would be timeout's pid).
sig_listen() {
	rm -f "$dir/out" "$dir/rerr"
	$T "$IPCX" recv signal:// -n "$1" -t $WAIT >"$dir/out" 2>"$dir/rerr" &
	rpid=$!
	poll_until "the signal receiver" \
		grep -q '^ipcx: listening on signal://' "$dir/rerr"
	spid=$(sed -n 's|^ipcx: listening on signal://||p' "$dir/rerr")
}
sig_listen 3
for v in 42 7 1000000; do
	/usr/bin/kill -s RTMIN+1 --queue $v "$spid" 2>>"$dir/serr"
done
wait $rpid
rrc=$?
if [ $rrc -eq 0 ] && [ "$(cat "$dir/out")" = "42
7
1000000" ]; then
	ok "signal: /usr/bin/kill --queue 42, 7, 1000000 reach ipcx recv"
else
	bad "signal: kill --queue to ipcx recv (exit $rrc)" "$dir/out" \
		"$dir/rerr" "$dir/serr"
fi
sig_listen 2
$T "$IPCX" send "signal://$spid" 5 0x100000000 2>"$dir/serr"
src=$?
wait $rpid
rrc=$?
if [ $src -eq 0 ] && [ $rrc -eq 0 ] && [ "$(cat "$dir/out")" = "5
4294967296" ]; then
	ok "signal: ipcx send 5 0x100000000 to ipcx recv"
else
	bad "signal: ipcx send to ipcx recv (send $src, recv $rrc)" \
		"$dir/out" "$dir/rerr" "$dir/serr"
fi
gone=$(sh -c 'echo $$')
expect_fail "signal: a pid that is gone" 1 "$IPCX" send "signal://$gone" 5
expect_fail "signal: a value that is not a number" 2 \
	"$IPCX" send "signal://$$" 12abc
expect_fail "signal: a value above 64 bits" 2 \
	"$IPCX" send "signal://$$" 0x10000000000000000

echo "== binary data"
head -c 1048576 /dev/urandom >"$dir/big"
$T "$IPCX" send --raw pipe:// <"$dir/big" 2>"$dir/serr" |
	$T "$IPCX" recv --raw pipe:// >"$dir/got" 2>"$dir/rerr"
if cmp -s "$dir/big" "$dir/got"; then
	ok "pipe: 1 MiB binary through --raw"
else
	bad "pipe: 1 MiB binary through --raw" "$dir/serr" "$dir/rerr"
fi
rt_raw fifo "fifo://$dir/rawfifo"
rt_raw "unix path" "unix://$dir/raw.sock"
rt_raw tcp "tcp://127.0.0.1:$(free_port tcp)"
rt_raw shm "shm://$shm-raw"

echo "== a Python client writing the framing of docs/FORMAT.md by hand"
# connect(path): a unix stream socket to path, retried until the receiver
# listens (at most 30 s); both Python clients below use it.
cat >"$dir/pyconnect.py" <<'EOF'
import socket, sys, time
def connect(path):
    for _ in range(3000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)
    sys.exit("the receiver never listened on " + path)
EOF
# Three frames: "hello", an empty message, and one whose header and
# payload arrive in pieces (a receive must never return half a message).
$T "$IPCX" recv "unix://$dir/py.sock" -n 3 -t $WAIT >"$dir/out" \
	2>"$dir/rerr" &
rpid=$!
$T python3 - "$dir/py.sock" "$dir" >"$dir/perr" 2>&1 <<'EOF'
import struct, sys, time
sys.path.insert(0, sys.argv[2])
from pyconnect import connect
s = connect(sys.argv[1])
def frame(b):
    return struct.pack(">I", len(b)) + b
s.sendall(frame(b"hello") + frame(b""))
last = frame("w\u00f6rld in pieces".encode())
for piece in (last[:2], last[2:7], last[7:]):
    s.sendall(piece)
    time.sleep(0.3)  # only slows things down: the result cannot change
s.close()
EOF
prc=$?
wait $rpid
rrc=$?
printf 'hello\n\nw\303\266rld in pieces\n' >"$dir/want"
if [ $prc -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want" "$dir/out"; then
	ok "python framing: 3 messages, one split mid-header"
else
	echo "     python exit $prc, recv exit $rrc"
	bad "python framing" "$dir/out" "$dir/rerr" "$dir/perr"
fi

# A header announcing 0xFFFFFFFF bytes: a clear error, no crash, no hang.
$T "$IPCX" recv "unix://$dir/huge.sock" -n 1 -t $WAIT >"$dir/out" \
	2>"$dir/rerr" &
rpid=$!
$T python3 - "$dir/huge.sock" "$dir" >"$dir/perr" 2>&1 <<'EOF'
import sys
sys.path.insert(0, sys.argv[2])
from pyconnect import connect
s = connect(sys.argv[1])
s.sendall(b"\xff\xff\xff\xff" + b"x" * 100)
s.settimeout(20)
try:
    s.recv(1)  # the receiver drops the connection: EOF or reset
except OSError:
    pass
EOF
prc=$?
wait $rpid
rrc=$?
lines=$(wc -l <"$dir/rerr")
if [ $prc -eq 0 ] && [ $rrc -eq 1 ] && [ "$lines" -eq 1 ] &&
	grep -q "^ipcx: unix://$dir/huge.sock: " "$dir/rerr"; then
	ok "frame of 0xFFFFFFFF bytes: $(cat "$dir/rerr")"
else
	echo "     python exit $prc, recv exit $rrc, $lines lines on stderr"
	bad "frame of 0xFFFFFFFF bytes" "$dir/out" "$dir/rerr" "$dir/perr"
fi

echo "== errors: one line on stderr, non-zero exit, within the timeout"
long=$(printf '%0200d' 0)
expect_fail "bad scheme" 1 "$IPCX" send bogus://x hi
expect_fail "not an endpoint" 1 "$IPCX" send /tmp/x hi
expect_fail "over-long unix path" 1 "$IPCX" send "unix:///tmp/$long" hi
expect_fail "over-long unix path (recv)" 1 "$IPCX" recv "unix:///tmp/$long"
expect_fail "port > 65535" 1 "$IPCX" send tcp://127.0.0.1:65536 hi
expect_fail "port > 65535 (recv)" 1 "$IPCX" recv udp://127.0.0.1:99999
expect_fail "unknown endpoint option" 1 "$IPCX" send "unix://$dir/s?bogus=1" hi
expect_fail "unknown option" 2 "$IPCX" send --bogus "unix://$dir/s" hi
expect_fail "unknown short option" 2 "$IPCX" recv -x "unix://$dir/s"
expect_fail "missing ENDPOINT" 2 "$IPCX" send
expect_fail "missing option argument" 2 "$IPCX" recv pipe:// -n
expect_fail "bad timeout" 2 "$IPCX" send -t soon pipe:// hi
expect_fail "bad count" 2 "$IPCX" recv -n 0 pipe://
expect_fail "--raw with MSG" 2 "$IPCX" send --raw pipe:// hi
expect_fail "unknown command" 2 "$IPCX" frobnicate
expect_fail "absent peer: unix path" 1 "$IPCX" send "unix://$dir/nobody" hi
expect_fail "absent peer: unix abstract" 1 "$IPCX" send "unix://@$abs-nobody" hi
expect_fail "absent peer: tcp" 1 "$IPCX" send "tcp://127.0.0.1:$(free_port tcp)" hi
expect_fail "absent peer, -t 300: exit 3" 3 "$IPCX" send -t 300 \
	"unix://$dir/nobody" hi
expect_fail "recv -t 200 with no sender: exit 3" 3 "$IPCX" recv -t 200 \
	"unix://@$abs-quiet"
# Every scheme is implemented now; file:// refuses a climbing path.
expect_fail "file: a '..' in the spool path" 1 "$IPCX" send "file://$dir/../box" hi
expect_fail "rm of a missing object" 1 "$IPCX" rm "shm://$shm-none"

# The issue's example: a 1024-byte queue refuses 2000 bytes, naming 1024.
expect_fail "mq: 2000 bytes into a msgsize=1024 queue" 1 "$IPCX" send \
	"mq://$shm-mqsz?msgsize=1024" "$(printf '%2000s' x)"
if grep -q "message of 2000 bytes exceeds this queue's msgsize 1024" \
	"$dir/ferr"; then
	ok "mq: the refusal names msgsize 1024 and the knob"
else
	bad "mq: the refusal names msgsize 1024 and the knob" "$dir/ferr"
fi
$T "$IPCX" rm -f "mq://$shm-mqsz"

echo "== command line"
expect_out "options after the arguments: send EP a -t 500" 'a
' '$T "$IPCX" send pipe:// a -t 500 | $T "$IPCX" recv pipe:// -t 5000'
expect_out "'--' ends options: a message '-x'" '-x
--raw
' '$T "$IPCX" send -- pipe:// -x --raw | $T "$IPCX" recv -- pipe://'
expect_out "options after the arguments: send EP a b -t 500" 'a
b
' '$T "$IPCX" send pipe:// a b -t 500 | $T "$IPCX" recv pipe:// -n 2'
if $T "$IPCX" rm "shm://$shm-none" -f 2>"$dir/err" && [ ! -s "$dir/err" ]; then
	ok "options after the arguments: rm EP -f"
else
	bad "options after the arguments: rm EP -f" "$dir/err"
fi
expect_out "recv -n 1 stops after one message" 'a
' '$T "$IPCX" send pipe:// a b | $T "$IPCX" recv pipe:// -n 1'
expect_fail "recv -n 3 when the peer leaves after 2" 1 \
	sh -c '"$1" send pipe:// a b | "$1" recv -n 3 pipe://' sh "$IPCX"
for c in send recv rm clean bench; do
	$T "$IPCX" "$c" --help >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^usage: ipcx $c" "$dir/out" &&
		[ ! -s "$dir/err" ]; then
		ok "ipcx $c --help"
	else
		bad "ipcx $c --help (exit $rc)" "$dir/out" "$dir/err"
	fi
	$T "$IPCX" help "$c" >"$dir/out2" 2>&1
	if cmp -s "$dir/out" "$dir/out2"; then
		ok "ipcx help $c"
	else
		bad "ipcx help $c" "$dir/out2"
	fi
	$T "$IPCX" "$c" --version >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^ipcx [0-9]' "$dir/out"; then
		ok "ipcx $c --version"
	else
		bad "ipcx $c --version (exit $rc)" "$dir/out" "$dir/err"
	fi
	# One shared option reader: the same answer from every subcommand.
	$T "$IPCX" "$c" --no-such-option >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$dir/out" ] &&
		[ "$(wc -l <"$dir/err")" -eq 1 ] &&
		grep -q "^ipcx $c: unknown option '--no-such-option'" "$dir/err"
	then
		ok "ipcx $c --no-such-option: exit 2, one line on stderr"
	else
		bad "ipcx $c --no-such-option (exit $rc)" "$dir/out" "$dir/err"
	fi
	$T "$IPCX" "$c" --help=x >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q "takes no value" "$dir/err"; then
		ok "ipcx $c --help=x: exit 2"
	else
		bad "ipcx $c --help=x (exit $rc)" "$dir/out" "$dir/err"
	fi
done
for a in --help -h help; do
	if $T "$IPCX" $a >"$dir/out" 2>&1 && grep -q '^usage: ipcx' "$dir/out"
	then
		ok "ipcx $a"
	else
		bad "ipcx $a" "$dir/out"
	fi
done
if $T "$IPCX" --version >"$dir/out" 2>&1 && grep -q '^ipcx [0-9]' "$dir/out"
then
	ok "ipcx --version"
else
	bad "ipcx --version" "$dir/out"
fi
$T "$IPCX" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] && ok "ipcx alone: exit 2" || bad "ipcx alone: exit $rc"

echo "== recv --from, signals"
$T "$IPCX" recv --from "unix://$dir/from.sock" -n 1 -t $WAIT >"$dir/out" \
	2>"$dir/rerr" &
rpid=$!
$T "$IPCX" send -t $WAIT "unix://$dir/from.sock" hi 2>"$dir/serr"
wait $rpid
rrc=$?
if [ $rrc -eq 0 ] && grep -Eq "^pid=[0-9]+ uid=$(id -u): hi\$" "$dir/out"
then
	ok "recv --from over unix: $(cat "$dir/out")"
else
	bad "recv --from over unix (exit $rrc)" "$dir/out" "$dir/rerr" \
		"$dir/serr"
fi

# SIGINT ends recv cleanly: the listener's socket file is removed and the
# command dies of the signal (status 130), well before its -t.
$T "$IPCX" recv "unix://$dir/int.sock" -t $WAIT >"$dir/out" 2>"$dir/rerr" &
rpid=$!
poll_until "the listener" test -S "$dir/int.sock"
kill -INT $rpid
wait $rpid
rrc=$?
if [ $rrc -eq 130 ] && [ ! -e "$dir/int.sock" ]; then
	ok "SIGINT ends recv (status 130) and removes the socket file"
else
	ls -l "$dir/int.sock" 2>&1
	bad "SIGINT ends recv (status $rrc, want 130)" "$dir/rerr"
fi
$T "$IPCX" recv "unix://$dir/term.sock" >"$dir/out" 2>"$dir/rerr" &
rpid=$!
poll_until "the listener" test -S "$dir/term.sock"
kill -TERM $rpid
wait $rpid
rrc=$?
if [ $rrc -eq 143 ] && [ ! -e "$dir/term.sock" ]; then
	ok "SIGTERM ends recv (status 143) and removes the socket file"
else
	bad "SIGTERM ends recv (status $rrc, want 143)" "$dir/rerr"
fi

echo "== a listener out of file descriptors"
# 100 idle connections at a receiver limited to 64 fds, then a message on
# one more: recv runs out of fds, neither spins nor exits, and prints the
# message once the idle ones close (it waited in the kernel meanwhile).
$T sh -c 'ulimit -n 64 && exec "$@"' sh "$IPCX" recv -n 1 -t $WAIT \
	"unix://$dir/fds.sock" >"$dir/out" 2>"$dir/rerr" &
rpid=$!
$T python3 - "$dir/fds.sock" "$dir" >"$dir/perr" 2>&1 <<'EOF'
import struct, sys
sys.path.insert(0, sys.argv[2])
from pyconnect import connect
idle = [connect(sys.argv[1]) for _ in range(100)]
last = connect(sys.argv[1])
last.sendall(struct.pack(">I", 5) + b"after")
for s in idle:
    s.close()
last.close()
EOF
prc=$?
wait $rpid
rrc=$?
if [ $prc -eq 0 ] && [ $rrc -eq 0 ] && [ "$(cat "$dir/out")" = after ]; then
	ok "recv under ulimit -n 64 with 101 senders: survives, delivers"
else
	echo "     python exit $prc, recv exit $rrc"
	bad "recv under ulimit -n 64" "$dir/out" "$dir/rerr" "$dir/perr"
fi

echo "== rm and clean"
# The FIFOs stay after their receivers (only rm or clean removes names).
for f in fifo fifo2 rawfifo; do
	if [ -p "$dir/$f" ] && $T "$IPCX" rm "fifo://$dir/$f" 2>"$dir/err" &&
		[ ! -e "$dir/$f" ]; then
		ok "rm fifo://.../$f"
	else
		bad "rm fifo://.../$f" "$dir/err"
	fi
done
for n in rt1 rt2 raw; do
	if $T "$IPCX" rm "shm://$shm-$n" 2>"$dir/err" &&
		[ ! -e "/dev/shm/$shm-$n" ]; then
		ok "rm shm://$shm-$n"
	else
		bad "rm shm://$shm-$n" "$dir/err"
	fi
done
# The queues stay after their users; rm takes them out of /dev/mqueue and
# /proc/sysvipc/msg. /dev/mqueue may not be mounted: as root, look through
# a private mount in a mount namespace of our own; else skip that look.
mqfs=
if awk '$2 == "/dev/mqueue" && $3 == "mqueue" { f = 1 } END { exit !f }' \
	/proc/mounts; then
	mqfs=/dev/mqueue
elif [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
	mkdir "$dir/mqfs" &&
	unshare -m mount -t mqueue none "$dir/mqfs" 2>/dev/null; then
	mqfs=private # (a container may forbid it: then no look, as above)
fi
mq_exists() { # NAME
	case $mqfs in
	private) unshare -m sh -c "mount -t mqueue none '$dir/mqfs' &&
		test -e '$dir/mqfs/$1'" ;;
	*) test -e "$mqfs/$1" ;;
	esac
}
sv_listed() { # KEY
	awk -v k=$(($1)) 'NR > 1 && $1 == k { f = 1 } END { exit !f }' \
		/proc/sysvipc/msg
}
for n in mq1 mq2 mq3; do
	if [ -z "$mqfs" ]; then
		$T "$IPCX" rm "mq://$shm-$n" 2>"$dir/err" &&
			ok "rm mq://$shm-$n (no mqueue mount to look at)" ||
			bad "rm mq://$shm-$n" "$dir/err"
	elif mq_exists "$shm-$n" && $T "$IPCX" rm "mq://$shm-$n" 2>"$dir/err" &&
		! mq_exists "$shm-$n"; then
		ok "rm mq://$shm-$n removes it from /dev/mqueue"
	else
		bad "rm mq://$shm-$n removes it from /dev/mqueue" "$dir/err"
	fi
done
for k in $sv1 $sv2 $sv3; do
	if sv_listed "$k" && $T "$IPCX" rm "sysv-mq://$k" 2>"$dir/err" &&
		! sv_listed "$k"; then
		ok "rm sysv-mq://$k removes it from /proc/sysvipc/msg"
	else
		bad "rm sysv-mq://$k removes it from /proc/sysvipc/msg" "$dir/err"
	fi
done
if $T "$IPCX" rm -f "shm://$shm-none" "fifo://$dir/none" 2>"$dir/err" &&
	[ ! -s "$dir/err" ]; then
	ok "rm -f ignores missing objects"
else
	bad "rm -f ignores missing objects" "$dir/err"
fi

# A ring with a message and no process: stale. clean -n names it and keeps
# it, clean removes it.
$T "$IPCX" send "shm://$shm-stale" left-behind 2>"$dir/err" ||
	bad "send to shm://$shm-stale" "$dir/err"
$T "$IPCX" clean -n >"$dir/out" 2>"$dir/err"
if grep -q "^would remove shm://$shm-stale: no process maps it" "$dir/out" &&
	[ -e "/dev/shm/$shm-stale" ]; then
	ok "clean -n lists a stale ring and keeps it"
else
	bad "clean -n lists a stale ring and keeps it" "$dir/out" "$dir/err"
fi
$T "$IPCX" clean "shm://$shm-stale" >"$dir/out" 2>"$dir/err"
if grep -q "^removed shm://$shm-stale: no process maps it or holds it open, [0-9]* bytes queued, owner uid $(id -u)\$" "$dir/out" &&
	[ ! -e "/dev/shm/$shm-stale" ]; then
	ok "clean removes a stale ring"
else
	bad "clean removes a stale ring" "$dir/out" "$dir/err"
fi

# A ring a receiver holds: clean keeps it.
$T "$IPCX" recv "shm://$shm-busy" -n 1 -t $WAIT >"$dir/out" 2>"$dir/rerr" &
rpid=$!
poll_until "the ring" ring_ready "$shm-busy"
$T "$IPCX" clean -n "shm://$shm-busy" >"$dir/cout" 2>"$dir/cerr"
crc=$?
$T "$IPCX" send "shm://$shm-busy" finished 2>"$dir/serr"
wait $rpid
if [ $crc -eq 0 ] && [ ! -s "$dir/cout" ] && [ -e "/dev/shm/$shm-busy" ]
then
	ok "clean keeps a ring in use"
else
	bad "clean keeps a ring in use" "$dir/cout" "$dir/cerr"
fi
$T "$IPCX" rm -f "shm://$shm-busy"

# A unix socket file whose listener was killed: stale. One with a live
# listener is kept, and the listener does not notice the check.
$T "$IPCX" recv "unix://$dir/live.sock" -n 1 -t $WAIT >"$dir/out" \
	2>"$dir/rerr" &
rpid=$!
# Not under timeout: $! must be ipcx itself to kill it. It dies just below,
# and cleanup() kills it should anything go wrong before.
"$IPCX" recv "unix://$dir/dead.sock" >/dev/null 2>&1 &
dpid=$!
poll_until "the listeners" test -S "$dir/live.sock" -a -S "$dir/dead.sock"
kill -KILL $dpid
wait $dpid 2>/dev/null
$T "$IPCX" clean "unix://$dir/live.sock" "unix://$dir/dead.sock" \
	"unix://@$abs-x" >"$dir/cout" 2>"$dir/cerr"
crc=$?
$T "$IPCX" send "unix://$dir/live.sock" still-here 2>"$dir/serr"
wait $rpid
rrc=$?
if [ $crc -eq 0 ] && [ "$(cat "$dir/cout")" = "removed unix://$dir/dead.sock: nobody is bound to it, owner uid $(id -u)" ] &&
	[ ! -e "$dir/dead.sock" ] && [ $rrc -eq 0 ] &&
	[ "$(cat "$dir/out")" = still-here ]; then
	ok "clean removes a dead listener's socket file, keeps a live one"
else
	echo "     clean exit $crc, live recv exit $rrc"
	bad "clean of unix socket files" "$dir/cout" "$dir/cerr" "$dir/out" \
		"$dir/rerr"
fi

# A spool with a dead writer's temporary file (no lock held): clean
# removes it and keeps the messages.
$T "$IPCX" send "file://$dir/spool3" kept 2>"$dir/err"
tmpf=t.0123456789abcdef.0000000000000001
printf 'torn' >"$dir/spool3/$tmpf"
$T "$IPCX" clean "file://$dir/spool3" >"$dir/cout" 2>"$dir/cerr"
crc=$?
$T "$IPCX" recv "file://$dir/spool3" -n 1 -t $WAIT >"$dir/out" 2>"$dir/rerr"
if [ $crc -eq 0 ] && [ "$(cat "$dir/cout")" = "removed file://$dir/spool3/$tmpf: its writer died mid-message" ] &&
	[ ! -e "$dir/spool3/$tmpf" ] && [ "$(cat "$dir/out")" = kept ]; then
	ok "clean removes a dead writer's temporary file from a spool"
else
	bad "clean of a spool" "$dir/cout" "$dir/cerr" "$dir/out" "$dir/rerr"
fi
for n in spool1 spool2 spool3; do
	if $T "$IPCX" rm "file://$dir/$n" 2>"$dir/err" && [ ! -e "$dir/$n" ]
	then
		ok "rm file://.../$n"
	else
		bad "rm file://.../$n" "$dir/err"
	fi
done
echo "== semaphores and the bounded buffer"
printf '\n\n' >"$dir/want-ev"
# rt_event NAME EP ORDER: two empty messages are two posts; recv -n 2
# prints an empty line for each. ORDER: recv-first or send-first.
rt_event() {
	name=$1 ep=$2
	rm -f "$dir/out" "$dir/rerr" "$dir/serr"
	if [ "$3" = recv-first ]; then
		$T "$IPCX" recv "$ep" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr" &
		rpid=$!
		$T "$IPCX" send -t $WAIT "$ep" "" "" 2>"$dir/serr"
		src=$?
		wait $rpid
		rrc=$?
	else
		$T "$IPCX" send -t $WAIT "$ep" "" "" 2>"$dir/serr"
		src=$?
		$T "$IPCX" recv "$ep" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr"
		rrc=$?
	fi
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && cmp -s "$dir/want-ev" "$dir/out"
	then
		ok "$name: two posts, $3"
	else
		echo "     send exit $src, recv exit $rrc"
		bad "$name: two posts, $3" "$dir/out" "$dir/rerr" "$dir/serr"
	fi
}
rt_event sem "sem://$shm-ev1" recv-first
rt_event sem "sem://$shm-ev2" send-first
rt_event sysv-sem "sysv-sem://$(sem_key 1)" recv-first
rt_event sysv-sem "sysv-sem://$(sem_key 2)" send-first
rt_recv_first semshm "semshm://$shm-rt1"
rt_send_first semshm "semshm://$shm-rt2"
expect_fail "recv -t 200 on an unposted sem://: exit 3" 3 "$IPCX" recv \
	-t 200 "sem://$shm-quiet"
expect_fail "recv -t 200 on an unposted sysv-sem://: exit 3" 3 "$IPCX" \
	recv -t 200 "sysv-sem://$(sem_key 3)"
expect_fail "a semaphore carries no bytes" 1 "$IPCX" send \
	"sem://$shm-quiet" hello
if grep -q "carries no bytes" "$dir/ferr"; then
	ok "  ... and says so"
else
	bad "  ... and says so" "$dir/ferr"
fi
expect_out "sem://?value=2 starts with two posts" '

' '$T "$IPCX" rm -f "sem://$shm-quiet" &&
	$T "$IPCX" recv "sem://$shm-quiet?value=2" -n 2 -t 0'
# rm removes each kind: the file in /dev/shm, the key in /proc/sysvipc/sem,
# the buffer and its set.
for n in ev1 ev2 quiet; do
	if $T "$IPCX" rm "sem://$shm-$n" 2>"$dir/err" &&
		[ ! -e "/dev/shm/sem.$shm-$n" ]; then
		ok "rm sem://$shm-$n"
	else
		bad "rm sem://$shm-$n" "$dir/err"
	fi
done
for k in 1 2 3; do
	key=$(sem_key $k)
	dec=$((key))
	if $T "$IPCX" rm "sysv-sem://$key" 2>"$dir/err" &&
		! awk -v k="$dec" '$1 == k { f = 1 } END { exit !f }' \
			/proc/sysvipc/sem; then
		ok "rm sysv-sem://$key"
	else
		bad "rm sysv-sem://$key" "$dir/err"
	fi
done
for n in rt1 rt2; do
	if $T "$IPCX" rm "semshm://$shm-$n" 2>"$dir/err" &&
		[ ! -e "/dev/shm/semshm.$shm-$n" ]; then
		ok "rm semshm://$shm-$n"
	else
		bad "rm semshm://$shm-$n" "$dir/err"
	fi
done
# A buffer with a message and no process: clean removes it with its set.
$T "$IPCX" send "semshm://$shm-stale" left-behind 2>"$dir/err" ||
	bad "send to semshm://$shm-stale" "$dir/err"
$T "$IPCX" clean "semshm://$shm-stale" >"$dir/out" 2>"$dir/err"
if grep -q "^removed semshm://$shm-stale: no process maps it" "$dir/out" &&
	[ ! -e "/dev/shm/semshm.$shm-stale" ]; then
	ok "clean removes a stale semshm buffer"
else
	bad "clean removes a stale semshm buffer" "$dir/out" "$dir/err"
fi

echo "== the first fifteen minutes (issue: fail loudly, say what to do)"

# pipe:// fed by something that is no frame stream.
for input in hi hello; do
	echo "$input" | $T "$IPCX" recv pipe:// >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$dir/out" ] &&
		grep -q 'stdin is not an ipcx frame stream' "$dir/err"; then
		ok "echo $input | recv pipe:// says it is no frame stream"
	else
		echo "     exit $rc"
		bad "echo $input | recv pipe:// says it is no frame stream" \
			"$dir/out" "$dir/err"
	fi
done
# A terminal on either side (script(1) gives the command a pty).
if command -v script >/dev/null 2>&1; then
	$T script -qec "$IPCX send pipe:// hi" /dev/null >"$dir/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'stdout is a terminal' "$dir/out"; then
		ok "send pipe:// to a terminal refuses"
	else
		echo "     exit $rc"
		bad "send pipe:// to a terminal refuses" "$dir/out"
	fi
	$T script -qec "$IPCX recv pipe://" /dev/null >"$dir/out" 2>&1 \
		</dev/null
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'stdin is a terminal' "$dir/out"; then
		ok "recv pipe:// from a terminal refuses"
	else
		echo "     exit $rc"
		bad "recv pipe:// from a terminal refuses" "$dir/out"
	fi
fi

# recv | head -1: SIGPIPE closes the channel and removes the socket file.
sock="$dir/first15.sock"
($T "$IPCX" recv "unix://$sock" 2>"$dir/err" | head -1 >"$dir/out") &
hp=$!
yes | $T "$IPCX" send -t $WAIT "unix://$sock" 2>/dev/null
wait $hp
if [ "$(cat "$dir/out")" = y ] && [ ! -e "$sock" ] && [ ! -s "$dir/err" ]; then
	ok "recv unix:// | head -1 removes its socket file, quietly"
else
	bad "recv unix:// | head -1 removes its socket file, quietly" \
		"$dir/out" "$dir/err"
	rm -f "$sock"
fi

# A shm:// sender that comes first creates the ring, and says so.
$T "$IPCX" send "shm://$shm-typo" hi >"$dir/out" 2>"$dir/err"
rc=$?
if [ $rc -eq 0 ] && grep -q 'created the ring; it has no receiver' "$dir/err" &&
	grep -q "ipcx rm shm://$shm-typo" "$dir/err"; then
	ok "send to a new shm:// ring says it made it (exit 0)"
else
	echo "     exit $rc"
	bad "send to a new shm:// ring says it made it" "$dir/err"
fi
$T "$IPCX" send "shm://$shm-typo" again >"$dir/out" 2>"$dir/err"
if [ ! -s "$dir/err" ]; then
	ok "send to an existing shm:// ring says nothing"
else
	bad "send to an existing shm:// ring says nothing" "$dir/err"
fi
rm -f "/dev/shm/$shm-typo"

# An oversized message: the ring stays at its size; say to remove it.
head -c 3000000 /dev/zero >"$dir/big"
$T "$IPCX" send --raw "shm://$shm-big" <"$dir/big" 2>/dev/null
$T "$IPCX" send --raw "shm://$shm-big?size=8M" <"$dir/big" 2>"$dir/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'remove it first (`ipcx rm' "$dir/err"; then
	ok "oversized shm message: remove the ring before a larger ?size="
else
	echo "     exit $rc"
	bad "oversized shm message: remove the ring before a larger ?size=" \
		"$dir/err"
fi
rm -f "/dev/shm/$shm-big" "$dir/big"

# rm on a live object names its holders and keeps it, unless --force.
$T "$IPCX" recv -n 1 "shm://$shm-live" >"$dir/out" 2>&1 &
lp=$!
poll_until "the receiver of $shm-live" ring_ready "$shm-live"
$T "$IPCX" rm "shm://$shm-live" 2>"$dir/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "in use by pid [0-9]* (ipcx)" "$dir/err" &&
	[ -e "/dev/shm/$shm-live" ]; then
	ok "rm on a live ring names its holder and keeps it"
else
	echo "     exit $rc"
	bad "rm on a live ring names its holder and keeps it" "$dir/err"
fi
$T "$IPCX" send "shm://$shm-live" bye 2>/dev/null
wait $lp

# A send that waits for room without -t says so on a terminal.
if command -v script >/dev/null 2>&1; then
	head -c 30000 /dev/zero >"$dir/big"
	nfull=0
	while $T "$IPCX" send -t 0 --raw "shm://$shm-full?size=64K" \
		<"$dir/big" 2>/dev/null; do
		nfull=$((nfull + 1))
	done
	$T script -qec "'$IPCX' send --raw shm://$shm-full <'$dir/big'" \
		/dev/null >"$dir/full" 2>&1 &
	fp=$!
	if poll_until "send saying it waits" grep -q 'full; waiting for' \
		"$dir/full"; then
		ok "send to a full ring says what it waits for"
	else
		bad "send to a full ring says what it waits for" "$dir/full"
	fi
	$T "$IPCX" recv -n $((nfull + 1)) "shm://$shm-full" >/dev/null
	wait $fp
	rm -f "/dev/shm/$shm-full" "$dir/big"
fi

# Messages that say what to do. expect_says NAME RC PATTERN CMD...
expect_says() {
	name=$1 want=$2 pat=$3
	shift 3
	expect_fail "$name" "$want" "$@"
	grep -q -- "$pat" "$dir/ferr" ||
		bad "$name: says '$pat'" "$dir/ferr"
}
expect_says "mistyped command" 2 'did you mean send?' "$IPCX" sned
expect_says "shm:///x" 1 'drop the leading slash' "$IPCX" send shm:///x hi
expect_says "tcp service name" 1 'want a port number' \
	"$IPCX" send tcp://localhost:http hi
expect_says "nobody listening" 1 'send -t MS' \
	"$IPCX" send "unix://$dir/nobody.sock" hi
expect_says "fifo in a missing directory" 1 \
	"directory $dir/no/such does not exist" \
	"$IPCX" recv "fifo://$dir/no/such/f"
expect_says "unix socket in a missing directory" 1 \
	"directory $dir/no/such does not exist" \
	"$IPCX" recv "unix://$dir/no/such/s"
$T "$IPCX" recv -n 1 "shm://$shm-busy" >/dev/null 2>&1 &
bp=$!
poll_until "the receiver of $shm-busy" ring_ready "$shm-busy"
expect_says "a busy ring" 1 'stop that one first' \
	"$IPCX" recv -t 0 "shm://$shm-busy"
$T "$IPCX" send "shm://$shm-busy" bye 2>/dev/null
wait $bp
rm -f "/dev/shm/$shm-busy"
# Another user's ring (root only, with a uid that can run the binary).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$IPCX" --version >/dev/null 2>&1; then
	$T "$IPCX" send "shm://$shm-typo" x 2>/dev/null
	expect_says "another user's ring" 1 'belongs to uid 0 with mode 0600' \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$IPCX" send "shm://$shm-typo" y
	rm -f "/dev/shm/$shm-typo"
else
	echo "skip another user's ring (not root, or uid 65534 cannot run $IPCX)"
fi

# clean: another user's stale ring is kept unless --all-users; --json.
if [ "$(id -u)" -eq 0 ]; then
	$T "$IPCX" send "shm://$shm-stale" x 2>/dev/null
	chown 65534 "/dev/shm/$shm-stale"
	$T "$IPCX" clean "shm://$shm-stale" >"$dir/out" 2>"$dir/err"
	if [ ! -s "$dir/out" ] && [ -e "/dev/shm/$shm-stale" ]; then
		ok "clean keeps another user's stale ring"
	else
		bad "clean keeps another user's stale ring" "$dir/out" "$dir/err"
	fi
	$T "$IPCX" clean --json --all-users "shm://$shm-stale" >"$dir/out" \
		2>"$dir/err"
	if python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
assert len(v) == 1 and v[0]["action"] == "removed", v
assert v[0]["uid"] == 65534 and v[0]["queued_bytes"] > 0, v
assert "owner uid 65534" in v[0]["reason"], v' "$dir/out" &&
		[ ! -e "/dev/shm/$shm-stale" ]; then
		ok "clean --json --all-users removes it, with the reason"
	else
		bad "clean --json --all-users removes it, with the reason" \
			"$dir/out" "$dir/err"
	fi
	rm -f "/dev/shm/$shm-stale"
fi

echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
