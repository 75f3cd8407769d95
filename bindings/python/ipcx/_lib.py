"""_lib.py - find libipcx, load it with ctypes and declare its prototypes.

Lookup order: the IPCX_LIB environment variable (a path to the shared
library; if set it must load), the build tree this package sits in
(``build/libipcx.so`` at the top of the ipcx tree), then the installed
soname ``libipcx.so.0``. A library that cannot be found is an ImportError
that says what to do.
"""

import ctypes
import os

SONAME = "libipcx.so.0"


def _candidates():
    """The places to try, in order, as (description, path) pairs."""
    env = os.environ.get("IPCX_LIB")
    if env:
        return [("$IPCX_LIB", env)]
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.normpath(os.path.join(here, "..", "..", ".."))
    return [
        ("the build tree", os.path.join(top, "build", "libipcx.so")),
        ("the installed soname", SONAME),
    ]


def _load():
    tried = []
    cands = _candidates()
    for what, path in cands:
        # A build-tree path that does not exist is not worth a dlopen; the
        # soname has no slash and goes through the loader's search path.
        if os.sep in path and not os.path.exists(path):
            tried.append("%s (%s): no such file" % (path, what))
            continue
        try:
            # CDLL (not PyDLL): every call releases the GIL, so a
            # blocking receive does not stop the program's other threads.
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append("%s (%s): %s" % (path, what, e))
    if cands[0][0] == "$IPCX_LIB":
        hint = "fix or unset IPCX_LIB"
    else:
        hint = ("run `make` at the top of the ipcx tree, or install the "
                "library (`make install`), or set IPCX_LIB=/path/to/libipcx.so")
    raise ImportError("ipcx: cannot load libipcx (%s); tried: %s"
                      % (hint, "; ".join(tried)))


lib = _load()

pid_t = ctypes.c_int32
uid_t = ctypes.c_uint32
gid_t = ctypes.c_uint32


class Peer_(ctypes.Structure):
    """struct ipcx_peer."""
    _fields_ = [("pid", pid_t), ("uid", uid_t), ("gid", gid_t)]


class Iovec_(ctypes.Structure):
    """struct iovec: one message of ipcx_sendv()."""
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


# Flags for ipcx_open(), as in include/ipcx.h.
SEND = 1 << 0
RECV = 1 << 1
CREATE = 1 << 2
EXCL = 1 << 3

_c = ctypes
_chp = _c.c_void_p  # ipcx_chan *, opaque
_PROTOS = {
    "ipcx_open": (_c.c_int, [_c.c_char_p, _c.c_int, _c.POINTER(_chp)]),
    "ipcx_pipe": (_c.c_int, [_c.c_char_p, _c.POINTER(_chp),
                             _c.POINTER(_chp)]),
    "ipcx_send": (_c.c_int, [_chp, _c.c_void_p, _c.c_size_t, _c.c_int]),
    "ipcx_sendv": (_c.c_int, [_chp, _c.POINTER(Iovec_), _c.c_int, _c.c_int]),
    "ipcx_recv": (_c.c_ssize_t, [_chp, _c.c_void_p, _c.c_size_t, _c.c_int]),
    "ipcx_pending": (_c.c_ssize_t, [_chp]),
    "ipcx_fd": (_c.c_int, [_chp]),
    "ipcx_peer": (_c.c_int, [_chp, _c.POINTER(Peer_)]),
    "ipcx_peek": (_c.c_ssize_t, [_chp, _c.POINTER(_c.c_void_p), _c.c_int]),
    "ipcx_release": (_c.c_int, [_chp]),
    "ipcx_close": (_c.c_int, [_chp]),
    "ipcx_unlink": (_c.c_int, [_c.c_char_p]),
    "ipcx_strerror": (_c.c_char_p, [_c.c_int]),
    "ipcx_errname": (_c.c_char_p, [_c.c_int]),
    "ipcx_errmsg": (_c.c_char_p, []),
    "ipcx_version": (_c.c_char_p, []),
}
for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args
