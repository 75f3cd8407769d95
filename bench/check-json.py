#!/usr/bin/env python3
"""check-json.py - say whether every figure of an `ipcx bench --json` file is filled.

Usage: bench/check-json.py FILE

Every row must carry transport, size, the round trip's p50/p99/p99.9,
msgs_per_s, bytes_per_s, cpu_ns_per_msg and baseline, none of them null,
except
  - a row skipped with its reason in "note" (a mechanism that cannot carry
    the size, a server that is not running), and
  - the figures a row names in "absent" with a reason (memcpy has no round
    trip: one process copies, nothing comes back).
A failed row is always an error. Only presence is checked, never a value's
size: the figures depend on the machine and its load.

Prints one line per problem and exits 1 if there is any, else prints how
many rows it checked and exits 0.
"""
import json
import sys

FIELDS = ("transport", "size", "rtt_p50_ns", "rtt_p99_ns", "rtt_p999_ns",
          "msgs_per_s", "bytes_per_s", "cpu_ns_per_msg", "baseline")


def problems(run):
    """Yield one sentence per missing figure in run (the parsed JSON)."""
    rows = run.get("rows")
    if not rows:
        yield "no rows"
        return
    for row in rows:
        name = "%s at %s B" % (row.get("transport"), row.get("size"))
        status = row.get("status")
        if status == "skipped":
            if not row.get("note"):
                yield name + ": skipped without a reason"
            continue
        if status != "ok":
            yield "%s: %s: %s" % (name, status, row.get("note"))
            continue
        absent = row.get("absent") or {}
        excused = set(absent.get("fields", ()))
        if excused and not absent.get("why"):
            yield name + ": absent figures without a reason"
        for key in FIELDS:
            if key not in row:
                yield "%s: no %s" % (name, key)
            elif row[key] is None and key not in excused:
                yield "%s: %s is null" % (name, key)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: check-json.py FILE\n")
        return 2
    try:
        with open(argv[1]) as f:
            run = json.load(f)
    except (OSError, ValueError) as e:
        print("%s: %s" % (argv[1], e))
        return 1
    bad = list(problems(run))
    for p in bad:
        print(p)
    if bad:
        return 1
    print("%d rows, every figure filled" % len(run["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
