# cli.sh - what the shell tests share; source it: . "$(dirname "$0")/lib/cli.sh"
#
# Sets IPCX (the binary; skips with 77 when it is missing), LIMIT (seconds
# any command may take), WAIT (ms ipcx may wait) and T (the timeout
# prefix), and defines: cli_need TOOL... (skip when one is missing),
# ok NAME, bad NAME [FILE...] (counts in $fails, shows the files),
# poll_until DESC CMD... (bounded poll, never a fixed sleep) and
# ring_ready NAME (/dev/shm/NAME carries the ring magic, written last).
# Variables it uses inside: tries.

IPCX=${IPCX:-$(pwd)/build/ipcx}
if [ ! -x "$IPCX" ]; then
	echo "no ipcx binary at $IPCX (build it: make)"
	exit 77
fi
LIMIT=${T_CLI_LIMIT:-30}
WAIT=15000
T="timeout -k 5 $LIMIT"
fails=0

cli_need() {
	for tool in timeout "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "$tool is not installed"
			exit 77
		fi
	done
}

ok() { echo "ok   $1"; }

bad() {
	fails=$((fails + 1))
	echo "FAIL $1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && sed "s|^|     $(basename "$f"): |" "$f"
	done
}

poll_until() {
	desc=$1
	shift
	tries=$((LIMIT * 100))
	while ! "$@" 2>/dev/null; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then
			echo "gave up waiting for $desc"
			return 1
		fi
		sleep 0.01
	done
}

ring_ready() { [ "$(head -c 4 "/dev/shm/$1" 2>/dev/null)" = IPXR ]; }
