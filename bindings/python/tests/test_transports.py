"""test_transports.py - every implemented transport, round trip through
the Python API: one process, then two (fork). A new transport is one entry
in TRANSPORTS."""

import os
import socket

import pytest

import ipcx
from conftest import unique


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port free right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class T:
    """A transport under test. rx(tag) -> endpoint the receiver opens
    (and creates); tx(rx_endpoint) -> the sender's endpoint (default: the
    same). payloads: the messages a round trip sends (the largest also
    goes out from a bytearray and a memoryview). msg(i): the i-th message
    of the other tests (a transport with fixed-size messages says how).
    zero_copy: peek() works. peer: the receiver learns the sender's pid
    and uid."""

    def __init__(self, name, rx, tx=None, payloads=None, msg=None,
                 zero_copy=False, peer=False):
        self.name, self.rx, self.tx = name, rx, tx or (lambda ep: ep)
        self.payloads = payloads or [b"", b"x", b"hello world",
                                     bytes(range(256)) * 16]
        self.msg = msg or (lambda i: b"msg %d" % i)
        self.zero_copy, self.peer = zero_copy, peer

    def __repr__(self):
        return self.name


TRANSPORTS = [
    T("pipe", None),  # ipcx.pipe(): no endpoint
    T("fifo", lambda t: "fifo:///tmp/" + unique(t)),
    T("unix", lambda t: "unix:///tmp/" + unique(t), peer=True),
    T("unix-abstract", lambda t: "unix://@" + unique(t), peer=True),
    T("tcp", lambda t: "tcp://127.0.0.1:%d" % free_port()),
    T("udp", lambda t: "udp://127.0.0.1:%d" % free_port(socket.SOCK_DGRAM)),
    T("shm", lambda t: "shm://" + unique(t), zero_copy=True, peer=True),
    # Coming: mq, sysv-mq, sem, signal, file: one line each, e.g.
    # T("mq", lambda t: "mq://" + unique(t)),
    # T("sem", lambda t: "sem://" + unique(t), payloads=[b""],
    #   msg=lambda i: b""),
    # T("signal", lambda t: "signal://", lambda ep: "signal://%d" %
    #   os.getpid(), payloads=[bytes(8)], msg=lambda i: i.to_bytes(8,
    #   "little")),
]
IDS = [t.name for t in TRANSPORTS]


@pytest.fixture(params=TRANSPORTS, ids=IDS)
def pair(request):
    """(transport, receiver, sender) opened and, afterwards, closed and
    unlinked."""
    t = request.param
    if t.rx is None:
        rx, tx = ipcx.pipe()
        ep = None
    else:
        ep = t.rx(t.name)
        rx = ipcx.open(ep, "r")
        tx = ipcx.open(t.tx(ep), "w", timeout=5)
    try:
        yield t, rx, tx
    finally:
        tx.close()
        rx.close()
        if ep:
            try:
                ipcx.unlink(ep)
            except (ipcx.NotFound, ipcx.NotSupported):
                pass  # nothing named (tcp, udp, abstract unix)


def test_round_trip(pair):
    t, rx, tx = pair
    for p in t.payloads:
        tx.send(p, timeout=5)
        assert rx.recv(timeout=5) == p
    # Any buffer goes out; recv_into fills any writable one.
    big = max(t.payloads, key=len)
    tx.send(bytearray(big), timeout=5)
    tx.send(memoryview(b"--" + big + b"--")[2:len(big) + 2], timeout=5)
    buf = bytearray(len(big) + 64)
    n = rx.recv_into(buf, timeout=5)
    assert bytes(buf[:n]) == big
    assert rx.recv(timeout=5) == big


def test_sendv(pair):
    """A batch arrives as that many messages, in order (any buffers)."""
    t, rx, tx = pair
    msgs = [t.msg(i) for i in range(20)]
    assert tx.sendv([msgs[0], bytearray(msgs[1])] + msgs[2:], timeout=5) \
        == 20
    for m in msgs:
        assert rx.recv(timeout=5) == m
    assert tx.sendv([], timeout=5) == 0


def test_poll_and_timeout(pair):
    t, rx, tx = pair
    with pytest.raises(TimeoutError) as e:
        rx.recv(timeout=0)
    assert e.value.name == "ETIMEDOUT" and e.value.code == -6
    with pytest.raises(ipcx.Timeout):
        rx.recv(timeout=0.01)


def test_fileno_selectors(pair):
    import selectors
    t, rx, tx = pair
    with selectors.DefaultSelector() as sel:
        sel.register(rx.fileno(), selectors.EVENT_READ)
        tx.send(t.msg(1), timeout=5)
        assert sel.select(timeout=5), "fd never polled readable"
        assert rx.recv(timeout=5) == t.msg(1)


def test_peer(pair):
    t, rx, tx = pair
    tx.send(t.msg(2), timeout=5)
    rx.recv(timeout=5)
    p = rx.peer
    if t.peer:
        assert p.pid == os.getpid() and p.uid == os.getuid()
    else:
        assert p.pid in (None, os.getpid())


def test_two_processes(pair):
    """A forked child sends; the parent receives in order."""
    t, rx, tx = pair
    n = 50
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            for i in range(n):
                tx.send(t.msg(i), timeout=5)
        except BaseException:
            code = 1
        os._exit(code)
    try:
        got = [rx.recv(timeout=10) for _ in range(n)]
    finally:
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert got == [t.msg(i) for i in range(n)]


def test_peek(pair):
    """Zero copy where the transport has it, NotSupported elsewhere (and
    the message is still there to receive)."""
    t, rx, tx = pair
    tx.send(t.msg(3), timeout=5)
    if t.zero_copy:
        with rx.peek(timeout=5) as view:
            assert bytes(view) == t.msg(3)
    else:
        with pytest.raises(ipcx.NotSupported):
            rx.peek(timeout=5)
        assert rx.recv(timeout=5) == t.msg(3)


def test_both_ways_over_one_socket(name):
    """mode "rw": a listener and a connector talk both ways."""
    ep = "unix://@" + name("rw")
    with ipcx.open(ep, "rw", create=True) as a, ipcx.open(ep, "rw") as b:
        b.send(b"ping", timeout=5)
        assert a.recv(timeout=5) == b"ping"
        a.send(b"pong", timeout=5)
        assert b.recv(timeout=5) == b"pong"
