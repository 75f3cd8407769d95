"""errors.py - libipcx's IPCX_E* codes as Python exceptions.

Every failure raises a subclass of ipcx.Error (itself an OSError) that
carries the IPCX_E* code (``code``, negative as in C), its name (``name``,
"ETIMEDOUT") and the library's detailed message (``message``, what failed
and what to do). Where a built-in exception fits, the class derives from it
too, so ordinary ``except TimeoutError`` or ``except FileNotFoundError``
clauses work; ``errno`` is the closest POSIX errno, or None.
"""

import errno as _errno
import io as _io

from ._lib import lib as _lib


class Error(OSError):
    """A libipcx call failed. code: IPCX_E* (< 0); name: "EPEER"...;
    message: ipcx_errmsg()'s text at the time of the failure."""

    def __init__(self, code, message=None, name=None):
        if name is None:
            name = _lib.ipcx_errname(code).decode()
        if not message:
            message = _lib.ipcx_strerror(code).decode()
        super().__init__(_ERRNO.get(name), message)
        self.code = code
        self.name = name
        self.message = message

    def __str__(self):
        return "%s [IPCX_%s]" % (self.message, self.name)

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.name))


# name: (class name, built-in base or None, errno, doc). The codes are
# libipcx's ABI and never change; ipcx_errname() gives each its name.
_TABLE = [
    ("EINVAL", "InvalidArgument", ValueError, _errno.EINVAL,
     "an argument is invalid"),
    ("EENDPOINT", "BadEndpoint", ValueError, _errno.EINVAL,
     "the endpoint string is malformed"),
    ("ESCHEME", "UnknownScheme", ValueError, _errno.EINVAL,
     "the endpoint's scheme is unknown"),
    ("EOPTION", "BadOption", ValueError, _errno.EINVAL,
     "an endpoint option is unknown or invalid"),
    ("ENAMETOOLONG", "NameTooLong", ValueError, _errno.ENAMETOOLONG,
     "a name in the endpoint is too long"),
    ("ETIMEDOUT", "Timeout", TimeoutError, _errno.ETIMEDOUT,
     "the timeout expired"),
    ("EMSGSIZE", "MessageTooLarge", None, _errno.EMSGSIZE,
     "the message exceeds the transport's limit"),
    ("ENOBUFS", "BufferTooSmall", None, _errno.ENOBUFS,
     "the buffer is smaller than the message (see .pending)"),
    ("EPEER", "PeerGone", BrokenPipeError, _errno.EPIPE,
     "the peer is gone"),
    ("ENOPEER", "NoPeer", ConnectionRefusedError, _errno.ECONNREFUSED,
     "nobody is at the other end (yet)"),
    ("ENOENT", "NotFound", FileNotFoundError, _errno.ENOENT,
     "no such object"),
    ("EEXIST", "Exists", FileExistsError, _errno.EEXIST,
     "the object already exists"),
    ("EACCES", "AccessDenied", PermissionError, _errno.EACCES,
     "permission denied"),
    ("ECORRUPT", "Corrupt", None, _errno.EBADMSG,
     "a corrupt frame or ring"),
    ("EAGAIN", "WouldBlock", BlockingIOError, _errno.EAGAIN,
     "the call would block"),
    ("ENOTSUP", "NotSupported", _io.UnsupportedOperation, _errno.EOPNOTSUPP,
     "the transport does not support this"),
    ("ENOMEM", "OutOfMemory", None, _errno.ENOMEM, "out of memory"),
    ("EBUSY", "Busy", None, _errno.EBUSY, "the object is busy"),
    ("ESYS", "SyscallError", None, None, "a system call failed"),
    ("ESTATE", "BadState", None, None,
     "the call is not valid in this state"),
]

_ERRNO = {name: eno for name, _, _, eno, _ in _TABLE}
_BY_NAME = {}
__all__ = ["Error"]
for _name, _cls, _base, _eno, _doc in _TABLE:
    _k = type(_cls, (Error,) if _base is None else (Error, _base),
              {"__doc__": "IPCX_%s: %s." % (_name, _doc),
               "__module__": "ipcx"})
    _BY_NAME[_name] = _k
    globals()[_cls] = _k
    __all__.append(_cls)


def error(code):
    """The exception for a negative return code, with this thread's
    ipcx_errmsg(): call it right after the failing call, in its thread."""
    code = int(code)
    msg = _lib.ipcx_errmsg()
    msg = msg.decode(errors="replace") if msg else ""
    name = _lib.ipcx_errname(code).decode()
    return _BY_NAME.get(name, Error)(code, msg, name)


def check(r):
    """Return r if it is >= 0, else raise its exception."""
    if r < 0:
        raise error(r)
    return r
