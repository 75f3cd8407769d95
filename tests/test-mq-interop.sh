#!/bin/sh
# test-mq-interop.sh - programs that know nothing of ipcx exchange messages
# with `ipcx` over both kinds of message queue, both ways:
#   mq://       a C program calling mq_send/mq_receive (compiled here);
#   sysv-mq://  Perl's IPC::Msg, on a numeric key and on ftok(path, 1).
# No header of ours is in the queues, so the bytes match exactly.
#
# Run by tests/run.sh with IPCX set. Exit 0 pass, 1 fail, 77 skip (no perl
# with IPC::Msg, or no C compiler). Every command runs under `timeout`;
# peers sync through `wait` and the queues themselves (a message sent first
# waits), never a fixed sleep. Everything made here is removed at the end.

IPCX=${IPCX:-$(pwd)/build/ipcx}
if [ ! -x "$IPCX" ]; then
	echo "no ipcx binary at $IPCX (build it: make)"
	exit 77
fi
if ! perl -MIPC::Msg -MIPC::SysV -e 1 2>/dev/null; then
	echo "perl with IPC::Msg is not installed"
	exit 77
fi
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v timeout >/dev/null; then
	echo "no C compiler ($CC) or no timeout"
	exit 77
fi

LIMIT=${T_CLI_LIMIT:-30}
WAIT=15000
T="timeout -k 5 $LIMIT"
dir=$(mktemp -d /tmp/ipcx-tmqi.XXXXXX) || exit 1
mq=ipcx-tmqi-$$
key=$(printf '0x%08x' $(((($$ * 2654435761) & 0x0fffffff) | 0x60000000)))
keyfile=$dir/keyfile
fails=0
checks=0

cleanup() {
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	"$IPCX" rm -f "mq://$mq-1" "mq://$mq-2" "sysv-mq://$key" \
		"sysv-mq://$keyfile" 2>/dev/null
	rm -rf "$dir"
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

# check NAME WANT FILE RC...: every RC is 0 and FILE holds WANT and a newline.
check() {
	name=$1 want=$2 file=$3
	shift 3
	for rc in "$@"; do
		if [ "$rc" -ne 0 ]; then
			echo "     exit codes: $*"
			bad "$name" "$file" "$dir/err"
			return
		fi
	done
	if [ "$(cat "$file")" = "$want" ]; then
		ok "$name"
	else
		bad "$name" "$file" "$dir/err"
	fi
}

# The C peer: `cpeer send /name TEXT` or `cpeer recv /name` (prints the
# message and a newline). It waits up to 10 s for the queue to appear.
cat >"$dir/cpeer.c" <<'EOF'
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int snd = argc == 4 && !strcmp(argv[1], "send");
	struct timespec ts;
	struct mq_attr a;
	mqd_t q = (mqd_t)-1;
	char *buf;
	ssize_t n;

	if (!snd && !(argc == 3 && !strcmp(argv[1], "recv")))
		return 2;
	for (int i = 0; i < 1000 && q == (mqd_t)-1; i++) {
		q = mq_open(argv[2], snd ? O_WRONLY : O_RDONLY);
		if (q == (mqd_t)-1)
			usleep(10000);
	}
	if (q == (mqd_t)-1 || mq_getattr(q, &a) < 0) {
		perror("mq_open");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (snd)
		return mq_timedsend(q, argv[3], strlen(argv[3]), 0, &ts) != 0;
	buf = malloc((size_t)a.mq_msgsize);
	n = buf ? mq_timedreceive(q, buf, (size_t)a.mq_msgsize, NULL, &ts)
	        : -1;
	if (n < 0) {
		perror("mq_receive");
		return 1;
	}
	printf("%.*s\n", (int)n, buf);
	return 0;
}
EOF
if ! $CC -std=c11 -D_GNU_SOURCE -o "$dir/cpeer" "$dir/cpeer.c" \
	2>"$dir/err"; then
	# glibc before 2.34 keeps mq_* in librt.
	$CC -std=c11 -D_GNU_SOURCE -o "$dir/cpeer" "$dir/cpeer.c" -lrt \
		2>"$dir/err" || { cat "$dir/err"; exit 1; }
fi

# The Perl peer: `perl - send KEY|PATH TEXT` or `perl - recv KEY|PATH`.
# A path goes through ftok(path, 1), as sysv-mq:///path does by default.
cat >"$dir/ppeer.pl" <<'EOF'
use strict;
use IPC::Msg;
use IPC::SysV qw(ftok IPC_CREAT S_IRUSR S_IWUSR);
my ($op, $where, $text) = @ARGV;
my $key = $where =~ /^0x/ ? hex($where) : ftok($where, 1);
defined $key or die "ftok $where: $!\n";
my $q = IPC::Msg->new($key, IPC_CREAT | S_IRUSR | S_IWUSR)
    or die "msgget: $!\n";
alarm 10;
if ($op eq 'send') {
	$q->snd(1, $text) or die "msgsnd: $!\n";
} else {
	my $buf;
	defined $q->rcv($buf, 65536, 1, 0) or die "msgrcv: $!\n";
	print "$buf\n";
}
EOF
: >"$keyfile"

echo "== mq:// and a C program using mq_send/mq_receive"
$T "$IPCX" recv "mq://$mq-1" -n 1 -t $WAIT >"$dir/out" 2>"$dir/err" &
rpid=$!
$T "$dir/cpeer" send "/$mq-1" "from C" 2>>"$dir/err"
src=$?
wait $rpid
check "C mq_send -> ipcx recv" "from C" "$dir/out" $src $?

$T "$IPCX" send "mq://$mq-2" "to C" 2>"$dir/err"
src=$?
$T "$dir/cpeer" recv "/$mq-2" >"$dir/out" 2>>"$dir/err"
check "ipcx send -> C mq_receive" "to C" "$dir/out" $src $?

echo "== sysv-mq:// and Perl's IPC::Msg"
$T "$IPCX" recv "sysv-mq://$key" -n 1 -t $WAIT >"$dir/out" 2>"$dir/err" &
rpid=$!
$T perl "$dir/ppeer.pl" send "$key" "from perl" 2>>"$dir/err"
src=$?
wait $rpid
check "perl IPC::Msg snd -> ipcx recv (key $key)" "from perl" "$dir/out" \
	$src $?

$T "$IPCX" send "sysv-mq://$key" "to perl" 2>"$dir/err"
src=$?
$T perl "$dir/ppeer.pl" recv "$key" >"$dir/out" 2>>"$dir/err"
check "ipcx send -> perl IPC::Msg rcv (key $key)" "to perl" "$dir/out" $src $?

# ftok: the same path means the same queue on both sides.
$T perl "$dir/ppeer.pl" send "$keyfile" "ftok from perl" 2>"$dir/err"
src=$?
$T "$IPCX" recv "sysv-mq://$keyfile" -n 1 -t $WAIT >"$dir/out" 2>>"$dir/err"
check "perl ftok(path, 1) -> ipcx sysv-mq:///path" "ftok from perl" \
	"$dir/out" $src $?

$T "$IPCX" send "sysv-mq://$keyfile?proj=1" "ftok to perl" 2>"$dir/err"
src=$?
$T perl "$dir/ppeer.pl" recv "$keyfile" >"$dir/out" 2>>"$dir/err"
check "ipcx sysv-mq:///path?proj=1 -> perl ftok(path, 1)" "ftok to perl" \
	"$dir/out" $src $?

"$IPCX" rm "mq://$mq-1" "mq://$mq-2" "sysv-mq://$key" \
	"sysv-mq://$keyfile" 2>"$dir/err" || bad "ipcx rm of the queues" "$dir/err"

echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
