"""test_errors.py - IPCX_E* codes become exceptions that ordinary except
clauses catch, with the code, its name and the library's message."""

import errno
import io
import os
import subprocess
import sys
import threading

import pytest

import ipcx
from ipcx import errors
from conftest import PKG, unique


def test_every_code_has_a_class():
    assert ipcx.codes, "the library names no codes"
    for name, code in ipcx.codes.items():
        e = errors.error(code)
        assert isinstance(e, ipcx.Error) and isinstance(e, OSError)
        assert (e.code, e.name) == (code, name)
        assert type(e) is not ipcx.Error, "no class for IPCX_" + name
        assert e.message and "IPCX_" + name in str(e)


@pytest.mark.parametrize("name, builtin", [
    ("ETIMEDOUT", TimeoutError), ("ENOENT", FileNotFoundError),
    ("EEXIST", FileExistsError), ("EACCES", PermissionError),
    ("EPEER", BrokenPipeError), ("ENOPEER", ConnectionRefusedError),
    ("EAGAIN", BlockingIOError), ("EINVAL", ValueError),
    ("EENDPOINT", ValueError), ("ENOTSUP", io.UnsupportedOperation),
])
def test_builtin_bases(name, builtin):
    assert isinstance(errors.error(ipcx.codes[name]), builtin)


def test_unknown_scheme():
    with pytest.raises(ValueError) as e:
        ipcx.open("bogus://x")
    assert isinstance(e.value, ipcx.UnknownScheme)
    assert e.value.code == -3 and e.value.name == "ESCHEME"
    assert "bogus" in e.value.message


def test_malformed_endpoint():
    with pytest.raises(ipcx.Error) as e:
        ipcx.open("shm://")
    assert isinstance(e.value, ValueError)


def test_not_found_and_exists():
    with pytest.raises(FileNotFoundError) as e:
        ipcx.unlink("shm://" + unique("nf"))
    assert e.value.errno == errno.ENOENT and e.value.message
    ep = "shm://" + unique("ex")
    with ipcx.open(ep, "r", excl=True):
        with pytest.raises(FileExistsError):
            ipcx.open(ep, "r", create=True, excl=True)
    ipcx.unlink(ep)
    with pytest.raises(FileNotFoundError):
        ipcx.unlink(ep)
    ipcx.unlink(ep, missing_ok=True)


def test_no_peer_waits_then_fails():
    ep = "unix:///tmp/" + unique("np")
    with pytest.raises(ConnectionRefusedError):
        ipcx.open(ep, "w")
    with pytest.raises(ConnectionRefusedError):
        ipcx.open(ep, "w", timeout=0.05)


def test_permission_denied():
    """An existing ring of another uid is refused (unless ?trust=any)."""
    if os.getuid() != 0:
        pytest.skip("needs root to make an object of another uid")
    name = unique("acc")
    path = "/dev/shm/" + name
    with ipcx.open("shm://" + name, "r"):
        pass
    try:
        os.chown(path, 65534, 65534)
        with pytest.raises(PermissionError) as e:
            ipcx.open("shm://" + name, "w")
        assert e.value.name == "EACCES"
    finally:
        os.unlink(path)


def test_peer_gone():
    rx, tx = ipcx.pipe()
    with rx:
        tx.close()
        with pytest.raises(BrokenPipeError) as e:
            rx.recv(timeout=5)
        assert isinstance(e.value, ipcx.PeerGone)


def test_message_too_large():
    rx, tx = ipcx.pipe("maxmsg=16")
    with rx, tx:
        with pytest.raises(ipcx.MessageTooLarge) as e:
            tx.send(b"x" * 17)
        assert e.value.errno == errno.EMSGSIZE


def test_recv_into_too_small_keeps_the_message():
    rx, tx = ipcx.pipe()
    with rx, tx:
        tx.send(b"0123456789")
        with pytest.raises(ipcx.BufferTooSmall) as e:
            rx.recv_into(bytearray(4), timeout=5)
        assert e.value.pending == 10
        assert rx.recv(timeout=5) == b"0123456789"


def test_big_message_grows_the_buffer(name):
    ep = "shm://%s?size=1M" % name("big")
    big = os.urandom(300 * 1024)
    with ipcx.open(ep, "r") as rx, ipcx.open(ep, "w") as tx:
        tx.send(big)
        assert rx.recv(timeout=5) == big
    ipcx.unlink(ep)


def test_bad_arguments():
    rx, tx = ipcx.pipe()
    with rx, tx:
        with pytest.raises(ValueError):
            rx.recv(timeout=-1)
        with pytest.raises(TypeError):
            tx.send("text is not bytes")
        with pytest.raises(TypeError):
            rx.recv_into(b"read-only")
    with pytest.raises(ValueError):
        ipcx.open("shm://x", "a")
    with pytest.raises(ValueError):
        rx.recv()  # closed
    rx.close()  # twice is fine


def test_errmsg_is_per_thread():
    """Each thread's exception carries its own failure's text."""
    out = {}

    def fail(ep):
        try:
            ipcx.open(ep, "w")
        except ipcx.Error as e:
            out[ep] = e.message

    eps = ["fifo:///tmp/" + unique("t%d" % i) for i in range(4)]
    ts = [threading.Thread(target=fail, args=(ep,)) for ep in eps]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for ep in eps:
        assert ep[len("fifo://"):] in out[ep]


def test_missing_library_is_a_clear_import_error():
    env = dict(os.environ, IPCX_LIB="/nonexistent/libipcx.so")
    r = subprocess.run([sys.executable, "-c", "import ipcx"], cwd=PKG,
                       env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "IPCX_LIB" in r.stderr


def test_signal_interrupts_a_receive_that_waits_forever():
    """recv(timeout=None) waits in slices, so a Python signal handler
    (Ctrl-C's KeyboardInterrupt) runs and its exception gets through."""
    import signal

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted()

    old = signal.signal(signal.SIGALRM, handler)
    rx, tx = ipcx.pipe()
    try:
        with rx, tx:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with pytest.raises(Interrupted):
                rx.recv()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_empty_buffers_and_bytes_endpoints():
    rx, tx = ipcx.pipe()
    with rx, tx:
        tx.send(bytearray())
        tx.send(memoryview(b""))
        assert rx.recv(timeout=5) == b""
        assert rx.recv_into(bytearray(), timeout=5) == 0
    with pytest.raises(ipcx.UnknownScheme):
        ipcx.open(b"nope://x")


def test_strided_and_typed_buffers():
    import array
    rx, tx = ipcx.pipe()
    with rx, tx:
        tx.send(memoryview(b"abcdef")[::-1])
        tx.send(memoryview(bytearray(b"abcdef"))[::2])
        tx.send(array.array("H", [1, 2]))
        assert rx.recv(timeout=5) == b"fedcba"
        assert rx.recv(timeout=5) == b"ace"
        out = array.array("H", [0, 0])
        assert rx.recv_into(out, timeout=5) == 4 and list(out) == [1, 2]
        tx.send(b"x")
        with pytest.raises(ValueError):
            rx.recv_into(memoryview(bytearray(8))[::2], timeout=5)


def test_the_bindings_code_constants_match_the_library():
    from ipcx import channel
    for name in ("ETIMEDOUT", "ENOBUFS", "ENOTSUP", "ESTATE"):
        assert getattr(channel, "_" + name) == ipcx.codes[name]
