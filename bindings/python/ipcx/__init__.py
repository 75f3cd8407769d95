"""ipcx - Python binding of libipcx: one message API over Linux IPC.

    import ipcx
    with ipcx.open("shm://bus", "r") as rx:   # the receiver creates the ring
        print(rx.recv(timeout=1.0))

Channels come from ipcx.open(endpoint, "r" | "w" | "rw") or ipcx.pipe();
errors are ipcx.Error subclasses (ipcx.Timeout is a TimeoutError,
ipcx.NotFound a FileNotFoundError, ...). The library is found through
$IPCX_LIB, the build tree, or the installed libipcx.so.0 (see _lib.py).
"""

from ._lib import lib as _cdll
from .channel import Channel, Message, Peer, open, pipe, unlink  # noqa: F401
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all


def version():
    """libipcx's version string, "0.1.0"."""
    return _cdll.ipcx_version().decode()


def _codes():
    """{"ETIMEDOUT": -6, ...}: every code the loaded library names."""
    out = {}
    for c in range(-1, -128, -1):
        n = _cdll.ipcx_errname(c).decode()
        if n != "UNKNOWN":
            out[n] = c
    return out


codes = _codes()
__version__ = version()
__all__ = ["Channel", "Message", "Peer", "open", "pipe", "unlink", "version",
           "codes"] + _errors_all
