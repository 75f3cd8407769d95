#!/usr/bin/env python3
"""bench.py - Python round trip over ipcx shm:// against Python's own IPC.

Two processes (fork) ping-pong one message of SIZE bytes and back, N times:

  ipcx shm://            two rings (one each way), ch.send / ch.recv -> bytes
  multiprocessing.Pipe   a duplex Connection, send_bytes / recv_bytes
  shared_memory + sems   a multiprocessing.shared_memory block and two
                         multiprocessing.Semaphore (request, reply); each
                         side copies the message out as bytes, as recv does

Prints p50 / p99 round-trip time and round trips per second (each round
trip is two messages), same run, same payloads. ipcx gets one row per shm
wait policy (adaptive is the library's default; see shm.c). --pin puts the
parent on CPU 0 and the child on CPU 1 (unpinned, the scheduler may put
both on one CPU, where a spinning waiter delays the peer it waits for).
Usage:

  python3 bindings/python/bench.py [-n N] [-s 64,65536]
                                   [--wait adaptive,sleep,spin] [--pin]

Figures depend on the machine and its load: say so when you quote them.
"""

import argparse
import multiprocessing as mp
import os
import struct
import sys
import time
from multiprocessing import shared_memory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipcx  # noqa: E402

WARMUP = 500
PIN = None  # (parent CPU, child CPU) with --pin


def _child_start():
    """In each forked child: pin it, with --pin."""
    if PIN:
        os.sched_setaffinity(0, {PIN[1]})


def _stats(samples, total_s):
    s = sorted(samples)
    return {"p50": s[len(s) // 2] / 1000.0,
            "p99": s[min(len(s) - 1, len(s) * 99 // 100)] / 1000.0,
            "rate": len(s) / total_s}


def _timed(n, one):
    """Run one() WARMUP + n times; per-call nanoseconds of the last n."""
    for _ in range(WARMUP):
        one()
    out = [0] * n
    clock = time.perf_counter_ns
    t0 = clock()
    for i in range(n):
        a = clock()
        one()
        out[i] = clock() - a
    return _stats(out, (clock() - t0) / 1e9)


# ---- ipcx shm:// ------------------------------------------------------------
def _ipcx_echo(ep_in, ep_out, n, ready):
    _child_start()
    with ipcx.open(ep_in, "r") as rx, ipcx.open(ep_out, "w") as tx:
        ready.set()
        for _ in range(n + WARMUP):
            tx.send(rx.recv())


def bench_ipcx(size, n, wait):
    tag = "ipcx-bench-%d" % os.getpid()
    opt = "?size=1M&wait=" + wait
    ping, pong = "shm://%s-ping%s" % (tag, opt), "shm://%s-pong%s" % (tag, opt)
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    with ipcx.open(pong, "r") as rx:
        child = ctx.Process(target=_ipcx_echo, args=(ping, pong, n, ready))
        child.start()
        ready.wait(30)
        msg = b"x" * size
        with ipcx.open(ping, "w") as tx:
            def one():
                tx.send(msg)
                rx.recv()
            r = _timed(n, one)
        child.join(30)
    ipcx.unlink(ping, missing_ok=True)
    ipcx.unlink(pong, missing_ok=True)
    return r


# ---- multiprocessing.Pipe -----------------------------------------------------
def _pipe_echo(conn, n):
    _child_start()
    for _ in range(n + WARMUP):
        conn.send_bytes(conn.recv_bytes())
    conn.close()


def bench_pipe(size, n):
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe()
    child = ctx.Process(target=_pipe_echo, args=(b, n))
    child.start()
    msg = b"x" * size

    def one():
        a.send_bytes(msg)
        a.recv_bytes()
    r = _timed(n, one)
    child.join(30)
    a.close()
    b.close()
    return r


# ---- multiprocessing.shared_memory + two semaphores ---------------------------
def _shm_echo(name, req, rep, n):
    _child_start()
    shm = shared_memory.SharedMemory(name=name)
    buf = shm.buf
    for _ in range(n + WARMUP):
        req.acquire()
        (ln,) = struct.unpack_from("<I", buf, 0)
        m = bytes(buf[4:4 + ln])  # take the message, as a receive would
        buf[4:4 + ln] = m  # and send it back
        rep.release()
    del buf
    shm.close()


def bench_shared_memory(size, n):
    ctx = mp.get_context("fork")
    shm = shared_memory.SharedMemory(create=True, size=4 + size)
    req, rep = ctx.Semaphore(0), ctx.Semaphore(0)
    child = ctx.Process(target=_shm_echo, args=(shm.name, req, rep, n))
    child.start()
    buf = shm.buf
    msg = b"x" * size

    def one():
        struct.pack_into("<I", buf, 0, size)
        buf[4:4 + size] = msg
        req.release()
        rep.acquire()
        bytes(buf[4:4 + size])
    r = _timed(n, one)
    child.join(30)
    del buf, one
    shm.close()
    shm.unlink()
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20000, help="round trips")
    ap.add_argument("-s", default="64,65536", help="payload sizes")
    ap.add_argument("--wait", default="adaptive,sleep,spin",
                    help="ipcx shm wait= policies, one row each")
    ap.add_argument("--pin", action="store_true",
                    help="parent on CPU 0, child on CPU 1")
    a = ap.parse_args()
    global PIN
    if a.pin:
        PIN = (0, 1)
        os.sched_setaffinity(0, {PIN[0]})
    rows = []
    for size in [int(x) for x in a.s.split(",")]:
        n = a.n if size <= 4096 else max(1000, a.n // 4)
        for w in a.wait.split(","):
            rows.append(("ipcx shm://?wait=" + w, size,
                         bench_ipcx(size, n, w)))
        rows.append(("multiprocessing.Pipe", size, bench_pipe(size, n)))
        rows.append(("shared_memory + 2 semaphores", size,
                     bench_shared_memory(size, n)))
    print("Python %s, libipcx %s, %d CPUs, %s, load average %.1f; round "
          "trip = one message each way between two processes"
          % (sys.version.split()[0], ipcx.version(), os.cpu_count(),
             "pinned to CPUs 0 and 1" if PIN else "not pinned",
             os.getloadavg()[0]))
    print()
    print("| transport | size (B) | p50 (us) | p99 (us) | round trips/s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, size, r in rows:
        print("| %s | %d | %.1f | %.1f | %.0f |"
              % (label, size, r["p50"], r["p99"], r["rate"]))


if __name__ == "__main__":
    main()
