#!/bin/sh
# test-ls.sh - `ipcx ls` end to end, against util-linux.
#
# A System V queue made by `ipcmk -Q` shows in `ipcx ls --json` with the
# same key, id, owner and permissions as `lsipc -q` reports, and the
# world-writable flag when it is 0666; a ring made by `ipcx recv shm://`
# shows its receiver's pid as receiver and as a holder, also under
# `-p PID`; -t keeps only the kinds named; bad options exit 2. Run by
# tests/run.sh with IPCX set; exit 0 pass, 1 fail, 77 skip. Everything
# made here is removed at the end.

. "$(dirname "$0")/lib/cli.sh"
cli_need python3 ipcmk ipcrm lsipc
shm=ipcx-tls-$$
dir=$(mktemp -d /tmp/ipcx-tls.XXXXXX) || exit 1
qid= qid2= rpid=

cleanup() {
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null
	wait 2>/dev/null
	[ -n "$qid" ] && ipcrm -q "$qid" 2>/dev/null
	[ -n "$qid2" ] && ipcrm -q "$qid2" 2>/dev/null
	rm -f "/dev/shm/$shm"
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# 1. A queue made by ipcmk: the same facts as lsipc.
qid=$(ipcmk -Q -p 0640 | awk '{print $NF}')
qid2=$(ipcmk -Q -p 0666 | awk '{print $NF}')
$T "$IPCX" ls --json -t sysv-mq >"$dir/ls.json" 2>"$dir/ls.err"
lrc=$?
lsipc -q --json -o KEY,ID,OWNER,PERMS >"$dir/lsipc.json" 2>"$dir/lsipc.err"
if [ $lrc -eq 0 ] && python3 - "$dir/ls.json" "$dir/lsipc.json" "$qid" \
	"$qid2" <<'EOF'
import json, sys
ours = json.load(open(sys.argv[1]))["objects"]
theirs = json.load(open(sys.argv[2]))["messages"]

def rwx(mode):
    m = int(mode, 8)
    return "".join(c if m & (1 << (8 - i)) else "-"
                   for i, c in enumerate("rwxrwxrwx"))

for qid, ww in ((sys.argv[3], False), (sys.argv[4], True)):
    o = [x for x in ours if x["kind"] == "sysv-mq" and x["id"] == int(qid)]
    t = [x for x in theirs if str(x["id"]) == qid]
    assert len(o) == 1 and len(t) == 1, (qid, o, t)
    o, t = o[0], t[0]
    assert int(o["key"], 16) == int(str(t["key"]), 16), (o, t)
    assert o["owner"] == t["owner"], (o, t)
    assert rwx(o["mode"]) == t["perms"], (o, t)
    assert o["messages"] == 0 and o["bytes"] == 0, o
    assert o["world_writable"] == ww, o
assert all(x["kind"] == "sysv-mq" for x in ours), ours
EOF
then
	ok "ls --json: ipcmk -Q queues as lsipc -q shows them (key, id, owner, perms), 0666 flagged"
else
	bad "ls --json: ipcmk -Q queue as lsipc -q shows it" "$dir/ls.json" \
		"$dir/ls.err" "$dir/lsipc.json"
fi
if $T "$IPCX" ls -t sysv-mq >"$dir/ls.txt" 2>"$dir/ls.err" &&
	grep -q "id $qid2 .*0666!" "$dir/ls.txt"; then
	ok "ls: the table flags the world-writable queue with '!'"
else
	bad "ls: the table flags the world-writable queue" "$dir/ls.txt" \
		"$dir/ls.err"
fi

# 2. A ring with its receiver: the receiver's pid as receiver and holder.
"$IPCX" recv "shm://$shm" -n 1 -t $WAIT >"$dir/rout" 2>"$dir/rerr" &
rpid=$!
cat >"$dir/ring.py" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
o = [x for x in objs if x.get("name") == sys.argv[2]]
assert len(o) == 1, objs
o, pid = o[0], int(sys.argv[3])
assert o["kind"] == "ring" and o["receiver"] == pid, o
assert not o["receiver_gone"] and not o["corrupt"], o
assert o["mode"] == "0600" and o["bytes"] == 0, o
assert any(h["pid"] == pid and h["map"] for h in o["holders"]), o
EOF
# ring_seen: ls shows the ring with its receiver (which the receiver
# writes just after it creates the ring: poll for it, bounded).
ring_seen() {
	$T "$IPCX" ls --json -t ring >"$dir/ring.json" 2>"$dir/ring.err" &&
		python3 "$dir/ring.py" "$dir/ring.json" "/dev/shm/$shm" \
			"$rpid" 2>"$dir/ring.why"
}
n=$((LIMIT * 20))
while ! ring_seen && [ $n -gt 0 ]; do
	n=$((n - 1))
	sleep 0.05
done
if ring_seen; then
	ok "ls --json: a ring with its receiver's pid as receiver and holder"
else
	bad "ls --json: a ring with its receiver" "$dir/ring.json" \
		"$dir/ring.err" "$dir/ring.why"
fi
# -t: without it ls (as root) would mount /dev/mqueue mid-suite.
if $T "$IPCX" ls -p "$rpid" -t ring,sysv-mq >"$dir/p.txt" 2>"$dir/p.err" &&
	grep -q "^ring .*/dev/shm/$shm .*rx $rpid .*$rpid/ipcx" "$dir/p.txt" &&
	! grep -q '^sysv-mq' "$dir/p.txt"; then
	ok "ls -p PID: only what the receiver holds"
else
	bad "ls -p PID" "$dir/p.txt" "$dir/p.err"
fi
$T "$IPCX" send -t $WAIT "shm://$shm" done 2>"$dir/serr"
wait "$rpid"
rrc=$?
rpid=
if [ $rrc -ne 0 ]; then
	bad "ring receiver exit $rrc" "$dir/rerr" "$dir/serr"
fi
$T "$IPCX" rm "shm://$shm"

# 2b. A POSIX queue made by ipcx send, with the ipcx recv that holds it
# open (where /dev/mqueue is mounted already: ls is not to mount it here).
if mountpoint -q /dev/mqueue 2>/dev/null; then
	mq=$shm-mq
	$T "$IPCX" send "mq://$mq" one 2>"$dir/mqs.err"
	"$IPCX" recv "mq://$mq" -n 2 -t $WAIT >"$dir/mqout" 2>"$dir/mqr.err" &
	mpid=$!
	mq_seen() {
		$T "$IPCX" ls --json -t mq >"$dir/mq.json" 2>"$dir/mq.err" &&
			python3 -c '
import json, sys
o = [x for x in json.load(open(sys.argv[1]))["objects"] if x["name"] == sys.argv[2]]
assert len(o) == 1 and o[0]["kind"] == "mq", o
assert any(h["pid"] == int(sys.argv[3]) and h["fd"] for h in o[0]["holders"]), o
' "$dir/mq.json" "/dev/mqueue/$mq" "$mpid" 2>"$dir/mq.why"
	}
	if poll_until "ls shows the queue held by its receiver" mq_seen; then
		ok "ls --json: a queue made by ipcx send, its receiver's pid as holder"
	else
		bad "ls --json: a queue made by ipcx send with its holder" \
			"$dir/mq.json" "$dir/mq.why"
	fi
	$T "$IPCX" send "mq://$mq" two 2>>"$dir/mqs.err"
	wait $mpid
	"$IPCX" rm "mq://$mq"
else
	echo "skip the mq:// holder check: /dev/mqueue is not mounted"
fi

# 3. As root, ls mounts /dev/mqueue when it is not mounted, and says so;
# in a private mount namespace, so that the system's mounts stay as they are.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
	unshare --mount true 2>/dev/null; then
	$T unshare --mount sh -c 'while umount /dev/mqueue 2>/dev/null; do :; done
		"$1" ls -t mq >/dev/null || exit 1
		grep -q " /dev/mqueue mqueue " /proc/self/mounts' sh "$IPCX" \
		2>"$dir/m.err"
	mrc=$?
	if [ $mrc -eq 0 ] && grep -q "mounted the mqueue file system" \
		"$dir/m.err"; then
		ok "ls as root mounts /dev/mqueue and says so"
	else
		bad "ls as root mounts /dev/mqueue (exit $mrc)" "$dir/m.err"
	fi
else
	echo "skip the /dev/mqueue mount check: not root or no unshare --mount"
fi

# 4. Usage errors exit 2 with one line on stderr; --help exits 0.
for args in "-t nope" "extra" "-p 0" "--bogus" "-t"; do
	# shellcheck disable=SC2086
	$T "$IPCX" ls $args >/dev/null 2>"$dir/uerr"
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$dir/uerr")" -eq 1 ]; then
		ok "ls $args: usage error (exit 2)"
	else
		bad "ls $args: exit $rc, want 2" "$dir/uerr"
	fi
done
if $T "$IPCX" ls --help | grep -q '^usage: ipcx ls'; then
	ok "ls --help"
else
	bad "ls --help"
fi

if [ $fails -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
exit 0
