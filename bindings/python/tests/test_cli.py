"""test_cli.py - Python and the C command talk to each other: Python sends
to `ipcx recv`, `ipcx send` sends to Python, over several transports."""

import subprocess

import pytest

import ipcx
from conftest import unique

EPS = [
    ("shm", lambda: "shm://" + unique("cli")),
    ("unix", lambda: "unix:///tmp/" + unique("cli")),
    ("fifo", lambda: "fifo:///tmp/" + unique("cli")),
]


def _unlink(ep):
    if not ep.startswith(("tcp:", "udp:")):
        ipcx.unlink(ep, missing_ok=True)


@pytest.mark.parametrize("mk", [m for _, m in EPS], ids=[n for n, _ in EPS])
def test_python_to_c(ipcx_cmd, mk):
    ep = mk()
    c = subprocess.Popen([ipcx_cmd, "recv", ep, "-n", "3", "-t", "10000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The command creates; wait (retrying) until it is there.
        with ipcx.open(ep, "w", timeout=10) as tx:
            for m in (b"one", b"two", b"three"):
                tx.send(m, timeout=10)
        out, err = c.communicate(timeout=20)
    finally:
        if c.poll() is None:
            c.kill()
            c.wait()
        c.stdout.close()
        c.stderr.close()
        _unlink(ep)
    assert c.returncode == 0, err
    assert out == b"one\ntwo\nthree\n"


@pytest.mark.parametrize("mk", [m for _, m in EPS], ids=[n for n, _ in EPS])
def test_c_to_python(ipcx_cmd, mk):
    ep = mk()
    with ipcx.open(ep, "r") as rx:
        c = subprocess.run([ipcx_cmd, "send", "-t", "10000", ep, "hello",
                            "from C"], capture_output=True, timeout=20)
        got = [rx.recv(timeout=10), rx.recv(timeout=10)]
    _unlink(ep)
    assert c.returncode == 0, c.stderr
    assert got == [b"hello", b"from C"]


def test_c_pipe_to_python(ipcx_cmd):
    """`ipcx send pipe://` writes frames to stdout; Python reads them
    through pipe://?fd=N."""
    c = subprocess.Popen([ipcx_cmd, "send", "pipe://", "a", "bc"],
                         stdout=subprocess.PIPE)
    try:
        with ipcx.open("pipe://?fd=%d" % c.stdout.fileno(), "r") as rx:
            got = list(rx)
    finally:
        c.stdout.close()
        c.wait(timeout=20)
    assert got == [b"a", b"bc"]
