#!/bin/sh
# bench/run.sh - `make bench`: ipcx against its floors and other libraries.
#
#   IPCX=build/ipcx sh bench/run.sh
#
# 1. builds the comparison peers whose packages are installed
#    (bench/peers/Makefile; scripts/bench-deps installs the packages);
# 2. starts iox-roudi with bench/peers/roudi.toml for the iceoryx peer
#    (or uses one that is already running, and leaves it running);
# 3. when nats-server is installed and ipcx has nats://, starts one server
#    and a three-node cluster on free loopback ports (tests/lib/nats.sh)
#    and adds two rows: nats://127.0.0.1:P (one server) and
#    nats://127.0.0.1:A@nats://127.0.0.1:C (publisher on node A, echo
#    child on node C: every message crosses a route);
# 4. runs `ipcx bench` (reference rows, ipcx transports, target ratios) and
#    every peer on the same sizes, each writing JSON into build/bench/;
# 5. prints ipcx next to the other libraries, with ratios;
# 6. stops the RouDi it started with TERM, the nats-servers by pid, and
#    removes what runs left in /dev/shm and /tmp.
#
# Environment: BENCH_SIZES (default 64,64K), BENCH_ITEMS (the -t list),
# BENCH_FLAGS (extra flags for every program, e.g. --quick), BENCH_OUT
# (default build/bench), BENCH_NATS (default yes; no: no servers, no nats
# rows). Exit status: that of `ipcx bench`, or 1 if a peer
# that was built failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
IPCX=${IPCX:-$top/build/ipcx}
case $IPCX in /*) ;; *) IPCX=$(pwd)/$IPCX ;; esac
SIZES=${BENCH_SIZES:-64,64K}
ITEMS=${BENCH_ITEMS:-shm://?wait=spin,shm,shm://?wait=sleep,pipe,fifo,unix,tcp,udp}
FLAGS=${BENCH_FLAGS:-}
OUT=${BENCH_OUT:-$top/build/bench}
PEERS=$top/build/peers
NATS=${BENCH_NATS:-yes}
roudi_pid=
nats_dir=
status=0

say() { printf '%s\n' "$*"; }

if [ ! -x "$IPCX" ]; then
	say "bench/run.sh: $IPCX not found (run 'make' first)" >&2
	exit 1
fi
mkdir -p "$OUT" || exit 1
rm -f "$OUT"/*.json

# Remove /dev/shm and /tmp objects named ipcx-bench-<pid>-... whose process
# is gone: what a killed run (ours or a peer's runtime files) left behind.
clean_leftovers() {
	for f in /dev/shm/ipcx-bench-* /tmp/ipcx-bench-*; do
		[ -e "$f" ] || continue
		pid=$(basename "$f" | cut -d- -f3)
		case $pid in '' | *[!0-9]*) continue ;; esac
		kill -0 "$pid" 2>/dev/null || rm -f "$f"
	done
}

stop_roudi() {
	[ -n "$roudi_pid" ] || return 0
	kill -TERM "$roudi_pid" 2>/dev/null
	i=0
	while kill -0 "$roudi_pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$roudi_pid" 2>/dev/null; then
		say "bench/run.sh: iox-roudi ignored TERM for 10 s; killing it" >&2
		kill -KILL "$roudi_pid" 2>/dev/null
		sleep 0.2
		# A KILLed RouDi leaves its segments and locks behind.
		rm -f /dev/shm/iceoryx_mgmt "/dev/shm/$(id -un)" /tmp/roudi \
			/tmp/roudi.lock /tmp/iox-unique-roudi.lock
	fi
	wait "$roudi_pid" 2>/dev/null
	roudi_pid=
}

# nats_start, nats_cluster3, nats_stop_all (the servers of tests/test-nats.sh)
. "$top/tests/lib/nats.sh"
stop_nats() {
	nats_stop_all
	[ -z "$nats_dir" ] || rm -rf "$nats_dir"
	nats_dir=
}

# shellcheck disable=SC2317 # called from the traps
cleanup() {
	stop_roudi
	stop_nats
	clean_leftovers
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

clean_leftovers

# ---- 1. peers ----
say "== building comparison peers (bench/peers)"
make -s -k -C "$here/peers" OUT="$PEERS" all || say "   (some peers failed to build; going on)"

# ---- 2. RouDi ----
use_iox=no
if [ -x "$PEERS/iceoryx-peer" ]; then
	if [ -S /tmp/roudi ] && pgrep -x iox-roudi >/dev/null 2>&1; then
		say "== iox-roudi already running: using it (its mempool config may differ)"
		use_iox=yes
	elif command -v iox-roudi >/dev/null 2>&1; then
		log=$OUT/roudi.log
		iox-roudi -c "$here/peers/roudi.toml" -l warning >"$log" 2>&1 &
		roudi_pid=$!
		i=0
		while [ $i -lt 150 ]; do
			grep -q "RouDi is ready for clients" "$log" 2>/dev/null && break
			kill -0 "$roudi_pid" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		if grep -q "RouDi is ready for clients" "$log" 2>/dev/null; then
			say "== iox-roudi started (pid $roudi_pid, bench/peers/roudi.toml)"
			use_iox=yes
		else
			say "== iox-roudi did not get ready; skipping iceoryx:" >&2
			tail -n 5 "$log" >&2
			stop_roudi
		fi
	else
		say "== iox-roudi not installed: skipping iceoryx (scripts/bench-deps)"
	fi
fi

# ---- 3. NATS ----
if [ "$NATS" = no ]; then
	:
elif ! command -v nats-server >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	say "== nats-server (or python3) not installed: no nats rows (scripts/install-deps)"
elif "$IPCX" send nats://127.0.0.1:1/x x 2>&1 | grep -q "not supported in this build"; then
	say "== ipcx was built without nats:// (install libnats-dev, rebuild): no nats rows"
else
	nats_dir=$(mktemp -d /tmp/ipcx-bnats.XXXXXX) || exit 1
	ports=$(nats_free_ports 2)
	solo=${ports% *}
	if nats_start solo "$solo" "${ports#* }" "$nats_dir" && nats_cluster3 "$nats_dir"; then
		say "== nats-server: one on 127.0.0.1:$solo, a cluster of three on" \
			"127.0.0.1:$NATS_PA,$NATS_PB,$NATS_PC (pids$NATS_PIDS)"
		ITEMS="$ITEMS,nats://127.0.0.1:$solo,nats://127.0.0.1:$NATS_PA@nats://127.0.0.1:$NATS_PC"
	else
		say "== nats-servers did not start: no nats rows" >&2
		stop_nats
	fi
fi

# ---- 4. measure ----
say ""
say "== ipcx bench -t '$ITEMS' -s $SIZES $FLAGS"
# shellcheck disable=SC2086
timeout -k 5 900 "$IPCX" bench -t "$ITEMS" -s "$SIZES" --json "$OUT/ipcx.json" $FLAGS
status=$?

run_peer() {
	name=$1
	say ""
	say "== $name-peer -s $SIZES $FLAGS"
	# shellcheck disable=SC2086
	timeout -k 5 600 "$PEERS/$name-peer" -s "$SIZES" --json "$OUT/$name.json" $FLAGS
	rc=$?
	[ $rc -eq 0 ] || { say "   $name-peer failed (exit $rc)" >&2; status=1; }
}
[ "$use_iox" = yes ] && run_peer iceoryx
stop_roudi
[ -x "$PEERS/zmq-peer" ] && run_peer zmq
[ -x "$PEERS/nng-peer" ] && run_peer nng

stop_nats

# ---- 5. compare ----
# Each JSON row sits on one line; pick fields with awk so no JSON tool is
# needed. Reference rows per peer: iceoryx (busy-poll, chunks written in
# place) against ipcx shm with wait=spin, zero-copy and copy; iceoryx
# waitset (sleeps) against shm with wait=sleep and the default adaptive;
# zmq and nng (kernel sockets) against ipcx unix and ipcx shm (adaptive).
say ""
say "== ipcx next to other libraries (p50 round trip; one-way msgs/s)"
say "   'ipcx faster' = peer p50 / ipcx p50 and ipcx msgs/s / peer msgs/s (>1: ipcx ahead)"
cat "$OUT"/*.json 2>/dev/null | awk '
function get(line, key,    re, v) {
	re = "\"" key "\": (\"[^\"]*\"|[^,}]*)"
	if (!match(line, re))
		return ""
	v = substr(line, RSTART + length(key) + 4, RLENGTH - length(key) - 4)
	gsub(/"/, "", v)
	return v
}
function us(ns) { return ns == "" || ns == "null" ? "-" : sprintf("%.2f us", ns / 1000) }
function rate(r) {
	if (r == "" || r == "null") return "-"
	r += 0
	if (r >= 1e6) return sprintf("%.2f M", r / 1e6)
	if (r >= 1e3) return sprintf("%.1f K", r / 1e3)
	return sprintf("%.0f", r)
}
function ratio(a, b) {
	if (a == "" || b == "" || a == "null" || b == "null" || b + 0 == 0) return "-"
	return sprintf("%.2fx", a / b)
}
/"transport": / {
	if (get($0, "status") != "ok") next
	name = get($0, "transport"); size = get($0, "size"); kind = get($0, "kind")
	key = kind "|" name "|" size
	p50[key] = get($0, "rtt_p50_ns"); mps[key] = get($0, "msgs_per_s")
	if (kind == "peer") { npeer++; pk[npeer] = key; pname[npeer] = name; psize[npeer] = size }
}
function cmp(i, ref,    k) {
	k = "ipcx|" ref "|" psize[i]
	if (!(k in p50)) return
	printf "%-6s %-16s %-28s %10s %10s %8s %10s %10s %8s\n", psize[i], pname[i], "ipcx " ref,
	    us(p50[pk[i]]), us(p50[k]), ratio(p50[pk[i]], p50[k]),
	    rate(mps[pk[i]]), rate(mps[k]), ratio(mps[k], mps[pk[i]])
}
END {
	if (npeer == 0) { print "   (no peer rows: are the peer packages installed? scripts/bench-deps)"; exit }
	printf "%-6s %-16s %-28s %10s %10s %8s %10s %10s %8s\n", "size", "peer", "vs",
	    "peer p50", "ipcx p50", "faster", "peer m/s", "ipcx m/s", "faster"
	for (i = 1; i <= npeer; i++) {
		if (pname[i] == "iceoryx waitset") {
			cmp(i, "shm?wait=sleep zero-copy"); cmp(i, "shm zero-copy")
		} else if (pname[i] ~ /^iceoryx/) {
			cmp(i, "shm?wait=spin zero-copy"); cmp(i, "shm?wait=spin")
		} else {
			cmp(i, "unix"); cmp(i, "shm")
		}
	}
}'
say ""
say "JSON: $OUT/*.json"
exit $status
