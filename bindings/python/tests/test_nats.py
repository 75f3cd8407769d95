"""test_nats.py - nats:// through the Python binding, against a nats-server
this module starts on a free loopback port and stops by pid: messages both
ways between the binding and the ipcx command, the timeout, and the clear
error for a server that is down. Skipped, with the reason, when
nats-server is not installed, or libipcx was built without nats:// or
cannot load the NATS client (libnats)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import ipcx
from conftest import unique


def free_port():
    """A loopback TCP port free right now (the kernel's pick for port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    """Something accepts connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def dead_port():
    """A port nobody listens on; skips the module when nats:// cannot run
    here (the library's own reason)."""
    port = free_port()
    try:
        ipcx.open("nats://127.0.0.1:%d/x" % port, "w").close()
    except ipcx.NotSupported as e:
        pytest.skip("nats:// unavailable: %s" % e.message)
    except ipcx.NoPeer:
        pass
    return port


@pytest.fixture(scope="module")
def server(dead_port):
    """nats://127.0.0.1:PORT of a nats-server of our own, stopped by pid
    (TERM, then KILL) after the module's tests."""
    exe = shutil.which("nats-server")
    if not exe:
        pytest.skip("nats-server is not installed (scripts/install-deps)")
    port = free_port()
    with tempfile.TemporaryFile(prefix="ipcx-t%d-nats" % os.getpid()) as log:
        proc = subprocess.Popen([exe, "-a", "127.0.0.1", "-p", str(port)],
                                stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            end = time.monotonic() + 15
            while not answers(port):
                if proc.poll() is not None or time.monotonic() > end:
                    log.seek(0)
                    pytest.fail("nats-server did not start: %s" %
                                log.read()[-500:].decode(errors="replace"))
                time.sleep(0.05)
            yield "nats://127.0.0.1:%d" % port
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def subject():
    return unique("nats")


def test_round_trip(server, subject):
    ep = "%s/%s" % (server, subject)
    # The receiver's subscription has reached the server when open returns.
    with ipcx.open(ep, "r") as rx, ipcx.open(ep, "w") as tx:
        payloads = [b"", b"x", b"hello nats", bytes(range(256)) * 16]
        for p in payloads:
            tx.send(p, timeout=5)
        tx.send(bytearray(b"from a bytearray"), timeout=5)
        assert [rx.recv(timeout=5) for _ in payloads] == payloads
        assert rx.recv(timeout=5) == b"from a bytearray"


def test_from_the_ipcx_command(server, subject, ipcx_cmd):
    """Another process publishes (ipcx send); the binding receives in
    order."""
    ep = "%s/%s" % (server, subject)
    with ipcx.open(ep, "r") as rx:
        words = ["m%d" % i for i in range(20)]
        subprocess.run([ipcx_cmd, "send", ep] + words, check=True,
                       timeout=30)
        assert [rx.recv(timeout=10) for _ in words] == \
            [w.encode() for w in words]


def test_timeout_and_poll(server, subject):
    import selectors
    ep = "%s/%s" % (server, subject)
    with ipcx.open(ep, "r") as rx, ipcx.open(ep, "w") as tx:
        with pytest.raises(TimeoutError) as e:
            rx.recv(timeout=0)
        assert e.value.name == "ETIMEDOUT"
        t0 = time.monotonic()
        with pytest.raises(ipcx.Timeout):
            rx.recv(timeout=0.2)
        assert time.monotonic() - t0 >= 0.19, "returned before its timeout"
        with selectors.DefaultSelector() as sel:
            sel.register(rx.fileno(), selectors.EVENT_READ)
            tx.send(b"wake", timeout=5)
            assert sel.select(timeout=5), "fd never polled readable"
            assert rx.recv(timeout=5) == b"wake"


def test_server_down(dead_port):
    ep = "nats://127.0.0.1:%d/x" % dead_port
    for mode in ("w", "r"):
        with pytest.raises(ConnectionRefusedError) as e:
            ipcx.open(ep, mode)
        assert isinstance(e.value, ipcx.NoPeer)
        assert "no NATS server answers at nats://127.0.0.1:%d" % dead_port \
            in e.value.message


def test_queue_option_is_for_receivers(server, subject):
    with pytest.raises(ipcx.Error) as e:
        ipcx.open("%s/%s?queue=g" % (server, subject), "w")
    assert "for receivers" in e.value.message
