# nats.sh - start and stop nats-server processes on free loopback ports, for
# tests/test-nats.sh and bench/run.sh; source it (POSIX sh):
#   . "$top/tests/lib/nats.sh"
#
# Needs nats-server and python3 (free ports, the monitoring JSON). Defines:
#   nats_free_ports N         N free loopback TCP ports on one line
#   nats_http_json PORT PATH EXPR
#                             EXPR (Python, the JSON as d) on the server's
#                             monitoring page PATH, e.g. /varz
#   nats_until SECONDS CMD... run CMD every 50 ms until it succeeds; 1 when
#                             SECONDS pass first
#   nats_start NAME PORT MPORT DIR [ARGS...]
#                             a server named NAME on 127.0.0.1:PORT
#                             (monitoring on MPORT, log DIR/NAME.log), up
#                             and answering; its pid in nats_pid and in
#                             NATS_PIDS. 1 (the log's tail on stderr) if it
#                             did not start within 15 s
#   nats_cluster3 DIR [ARGS...]
#                             three routed servers A, B, C (cluster ipcx);
#                             client ports in NATS_PA NATS_PB NATS_PC,
#                             monitoring ports in NATS_MA NATS_MB NATS_MC,
#                             pids in NATS_PID_A NATS_PID_B NATS_PID_C. 1 if
#                             one did not start or the routes did not form
#   nats_stop_all             TERM every server started here, wait for them
# Variables it uses inside start with nats_ or NATS_.
# shellcheck shell=sh
# shellcheck disable=SC2034 # NATS_* and nats_pid are for the caller

NATS_PIDS=

nats_free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

nats_http_json() {
	python3 - "$@" <<'PY' 2>/dev/null
import json, sys, urllib.request
d = json.load(urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=2))
print(eval(sys.argv[3]))
PY
}

nats_until() {
	nats_end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$nats_end" ] || return 1
		sleep 0.05
	done
}

nats_up() { nats_http_json "$1" /varz 'd["server_name"]' >/dev/null; }

nats_start() {
	nats_name=$1 nats_port=$2 nats_mport=$3 nats_dir=$4
	shift 4
	nats-server -a 127.0.0.1 -p "$nats_port" -m "$nats_mport" \
		-n "$nats_name" "$@" >"$nats_dir/$nats_name.log" 2>&1 &
	nats_pid=$!
	NATS_PIDS="$NATS_PIDS $nats_pid"
	if ! nats_until 15 nats_up "$nats_mport"; then
		echo "nats-server $nats_name did not start:" >&2
		tail -n 5 "$nats_dir/$nats_name.log" >&2
		return 1
	fi
}

# The server at monitoring port $1 has routes to both others.
nats_routed() {
	[ "$(nats_http_json "$1" /routez 'd["num_routes"]')" -ge 2 ] 2>/dev/null
}

nats_cluster3() {
	nats_cdir=$1
	shift
	# shellcheck disable=SC2046 # nine words
	set -- $(nats_free_ports 9) "$@"
	NATS_PA=$1 NATS_PB=$2 NATS_PC=$3 NATS_MA=$4 NATS_MB=$5 NATS_MC=$6
	nats_routes="nats://127.0.0.1:$7,nats://127.0.0.1:$8,nats://127.0.0.1:$9"
	nats_ca=$7 nats_cb=$8 nats_cc=$9
	shift 9
	nats_start A "$NATS_PA" "$NATS_MA" "$nats_cdir" --cluster_name ipcx \
		--cluster "nats://127.0.0.1:$nats_ca" --routes "$nats_routes" "$@" ||
		return 1
	NATS_PID_A=$nats_pid
	nats_start B "$NATS_PB" "$NATS_MB" "$nats_cdir" --cluster_name ipcx \
		--cluster "nats://127.0.0.1:$nats_cb" --routes "$nats_routes" "$@" ||
		return 1
	NATS_PID_B=$nats_pid
	nats_start C "$NATS_PC" "$NATS_MC" "$nats_cdir" --cluster_name ipcx \
		--cluster "nats://127.0.0.1:$nats_cc" --routes "$nats_routes" "$@" ||
		return 1
	NATS_PID_C=$nats_pid
	for nats_m in "$NATS_MA" "$NATS_MB" "$NATS_MC"; do
		if ! nats_until 20 nats_routed "$nats_m"; then
			echo "the three nats-servers did not form a cluster" >&2
			return 1
		fi
	done
}

nats_stop_all() {
	for nats_p in $NATS_PIDS; do kill "$nats_p" 2>/dev/null; done
	for nats_p in $NATS_PIDS; do wait "$nats_p" 2>/dev/null; done
	NATS_PIDS=
}
