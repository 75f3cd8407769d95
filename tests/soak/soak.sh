#!/bin/sh
# soak.sh - the load and kill soak (issue 25), run by `make soak`:
#
#   soak-load: SOAK_MSGS messages (default 10 M) per transport from
#     SOAK_SENDERS concurrent senders (default 4; one for pipe and fifo),
#     none lost, duplicated, reordered or corrupt, receiver RSS flat;
#   soak-kill: tests/test-kill's SIGKILL rounds, SOAK_SHM_ROUNDS on shm
#     (default 1,000) and SOAK_ROUNDS (default 300) on each stream transport.
#
# One line per test with its figures and seed (IPCX_T_SEED=N repeats a
# kill run; soak-load prints its own). Ends with the "N passed, N failed,
# N skipped" line .ci/run counts. Usage: sh tests/soak/soak.sh BUILD_DIR
b=${1:-build}
msgs=${SOAK_MSGS:-10000000}
senders=${SOAK_SENDERS:-4}
rounds=${SOAK_ROUNDS:-300}
shm_rounds=${SOAK_SHM_ROUNDS:-1000}
tmp=$(mktemp -d /tmp/ipcx-soak.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

for tp in pipe fifo unix tcp shm shm-zc; do
	if "$b/soak/soak-load" "$tp" "$msgs" "$senders" >"$tmp/out" \
		2>"$tmp/err"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		sed 's/^/    /' "$tmp/err" | tail -n 5
	fi
	cat "$tmp/out"
done

for tp in shm pipe fifo unix unix-abstract tcp; do
	n=$rounds
	[ "$tp" = shm ] && n=$shm_rounds
	seed=$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')
	start=$(date +%s)
	IPCX_T_SEED=$seed "$b/tests/test-kill" "$tp" "$n" >"$tmp/out" \
		2>"$tmp/err"
	rc=$?
	end=$(date +%s)
	what=$(grep "^$tp: " "$tmp/err" | tail -n 1 | sed "s/^$tp: //")
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		verdict=ok
	else
		fail=$((fail + 1))
		verdict="FAIL (exit $rc)"
		grep -v '^seed ' "$tmp/err" | tail -n 5 | sed 's/^/    /'
	fi
	printf 'soak-kill %-13s %s; %s s; seed %s: %s\n' "$tp" \
		"${what:-$n rounds}" $((end - start)) "$seed" "$verdict"
done

echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
