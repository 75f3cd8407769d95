"""conftest.py - shared fixtures: the package on sys.path, unique object
names, the ipcx command, and the checks that every test leaves no fd and
the session no /dev/shm object behind."""

import gc
import itertools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
TOP = os.path.normpath(os.path.join(PKG, "..", ".."))
sys.path.insert(0, PKG)

import ipcx  # noqa: E402  (after the path is set)

_seq = itertools.count()


def unique(tag):
    """A name of this run, "ipcx-t<pid>-py<n>-<tag>" (tests/lib's scheme:
    the suite's leftover check can tell whose it is)."""
    return "ipcx-t%d-py%d-%s" % (os.getpid(), next(_seq), tag)


@pytest.fixture
def name():
    return unique


@pytest.fixture
def ipcx_cmd():
    cmd = os.environ.get("IPCX") or os.path.join(TOP, "build", "ipcx")
    if not os.access(cmd, os.X_OK):
        pytest.skip("no ipcx command at %s (run make)" % cmd)
    return cmd


def _fds():
    gc.collect()
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_leaked_fds():
    before = _fds()
    yield
    after = _fds()
    leaked = {fd: os.readlink("/proc/self/fd/" + fd)
              for fd in after - before
              if os.path.exists("/proc/self/fd/" + fd)}
    assert not leaked, "the test leaked descriptors: %r" % leaked


@pytest.fixture(autouse=True, scope="session")
def no_leftover_shm():
    yield
    gc.collect()
    mine = "ipcx-t%d-" % os.getpid()
    left = [n for n in os.listdir("/dev/shm") if mine in n]
    for n in left:
        os.unlink(os.path.join("/dev/shm", n))
    assert not left, "the tests left these in /dev/shm: %r" % left
