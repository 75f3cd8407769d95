#!/bin/sh
# demo.sh - send and receive messages over every ipcx transport, from the
# shell: pipe, fifo, unix (path and abstract), tcp, udp, shm, mq, sysv-mq.
#
#   make demo                 (or: IPCX=build/ipcx sh scripts/demo.sh)
#
# Each step prints the commands it runs and the messages received. The
# receiver starts in the background; the sender's -t makes it wait until
# the receiver is there. Every command runs under `timeout`, so nothing can
# hang. Everything made is removed at the end. Exit 0 if every step worked.

IPCX=${IPCX:-build/ipcx}
if [ ! -x "$IPCX" ]; then
	echo "demo: no ipcx binary at $IPCX (build it first: make)" >&2
	exit 1
fi
T="timeout -k 2 20"
WAIT=10000

dir=$(mktemp -d /tmp/ipcx-demo.XXXXXX) || exit 1
shm=ipcx-demo-$$
failed=

cleanup() {
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	"$IPCX" rm -f "fifo://$dir/fifo" "shm://$shm" "mq://$shm" \
		"sysv-mq://$dir/key" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

step() {
	printf '\n== %s\n' "$1"
}

# show FILE: the messages received, indented.
show() {
	sed 's/^/   > /' "$1"
}

# report NAME STATUS ERRFILE...: note a failed step and say why.
report() {
	name=$1 st=$2
	shift 2
	if [ "$st" -ne 0 ]; then
		echo "   FAILED (exit $st)"
		cat "$@" 2>/dev/null | sed 's/^/   ! /'
		failed="$failed $name"
	fi
}

# pair NAME ENDPOINT MSG...: receiver in the background, then the sender.
pair() {
	name=$1 ep=$2
	shift 2
	echo "\$ ipcx recv $ep -n $# &"
	$T "$IPCX" recv "$ep" -n $# -t $WAIT >"$dir/out" 2>"$dir/rerr" &
	rpid=$!
	if [ "${ep#udp://}" != "$ep" ]; then
		# A datagram sent before the port is bound is lost: wait for it.
		wait_udp "${ep##*:}"
	fi
	printf '$ ipcx send -t %s %s' "$WAIT" "$ep"
	printf " '%s'" "$@"
	echo
	$T "$IPCX" send -t $WAIT "$ep" "$@" 2>"$dir/serr"
	sst=$?
	wait $rpid
	rst=$?
	show "$dir/out"
	report "$name-send" $sst "$dir/serr"
	report "$name-recv" $rst "$dir/rerr"
}

# wait_udp PORT: until something is bound to it (at most ~10 s).
wait_udp() {
	hex=$(printf '%04X' "$1")
	i=0
	while ! awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p \
		{ f = 1 } END { exit !f }' /proc/net/udp; do
		i=$((i + 1))
		[ $i -gt 1000 ] && return 1
		sleep 0.01
	done
}

port() { # tcp|udp: a free port, or a likely one without python3
	python3 -c '
import socket, sys
k = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, k)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1" 2>/dev/null || echo $((20000 + $$ % 20000))
}

echo "ipcx demo: one message API over Linux IPC ($("$IPCX" --version))"

step "pipe:// - an anonymous pipe: the shell connects the two commands"
echo "\$ ipcx send pipe:// 'hello through a pipe' 'second message' | ipcx recv pipe://"
$T "$IPCX" send pipe:// 'hello through a pipe' 'second message' \
	2>"$dir/serr" | $T "$IPCX" recv pipe:// >"$dir/out" 2>"$dir/rerr"
st=$?
show "$dir/out"
report pipe $st "$dir/serr" "$dir/rerr"
[ -s "$dir/serr" ] && report pipe 1 "$dir/serr"

step "fifo:// - a named pipe in the file system, made by the receiver"
pair fifo "fifo://$dir/fifo" 'hello through a FIFO' 'framed: boundaries kept'
echo "\$ ipcx rm fifo://$dir/fifo"
$T "$IPCX" rm "fifo://$dir/fifo" 2>"$dir/err"
report "fifo-rm" $? "$dir/err"

step "unix:// - a unix stream socket at a path"
pair unix-path "unix://$dir/sock" 'hello through a unix socket'

step "unix://@ - a unix socket in the abstract namespace (no file)"
pair unix-abstract "unix://@$shm" 'hello through an abstract socket'

step "tcp:// - TCP over loopback"
pair tcp "tcp://127.0.0.1:$(port tcp)" 'hello over TCP'

step "udp:// - UDP: one datagram, one message"
pair udp "udp://127.0.0.1:$(port udp)" 'hello over UDP'

step "shm:// - a ring in shared memory; the sender goes first and the message waits"
echo "\$ ipcx send shm://$shm 'hello through shared memory' 'waited in the ring'"
$T "$IPCX" send "shm://$shm" 'hello through shared memory' \
	'waited in the ring' 2>"$dir/serr"
st=$?
report shm-send $st "$dir/serr"
echo "\$ ls -l /dev/shm/$shm"
ls -l "/dev/shm/$shm" 2>&1 | sed 's/^/   /'
echo "\$ ipcx recv shm://$shm -n 2"
$T "$IPCX" recv "shm://$shm" -n 2 -t $WAIT >"$dir/out" 2>"$dir/rerr"
st=$?
show "$dir/out"
report shm-recv $st "$dir/rerr"
echo "\$ ipcx rm shm://$shm"
$T "$IPCX" rm "shm://$shm" 2>"$dir/err"
report shm-rm $? "$dir/err"

step "mq:// - a POSIX message queue; the message waits in the queue"
echo "\$ ipcx send mq://$shm 'hello through a message queue'"
$T "$IPCX" send "mq://$shm" 'hello through a message queue' 2>"$dir/serr"
report mq-send $? "$dir/serr"
echo "\$ ipcx recv mq://$shm -n 1"
$T "$IPCX" recv "mq://$shm" -n 1 -t $WAIT >"$dir/out" 2>"$dir/rerr"
st=$?
show "$dir/out"
report mq-recv $st "$dir/rerr"
$T "$IPCX" rm "mq://$shm" 2>"$dir/err"
report mq-rm $? "$dir/err"

step "sysv-mq:// - a System V queue on ftok(path, 1), as ipcs -q lists it"
: >"$dir/key"
pair sysv-mq "sysv-mq://$dir/key" 'hello through a System V queue'
$T "$IPCX" rm "sysv-mq://$dir/key" 2>"$dir/err"
report sysv-mq-rm $? "$dir/err"

echo
if [ -n "$failed" ]; then
	echo "demo: FAILED:$failed"
	exit 1
fi
echo "demo: every transport worked; nothing left behind."
