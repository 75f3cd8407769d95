"""channel.py - ipcx.open(), ipcx.pipe() and the Channel they return.

A Channel wraps one ipcx_chan. Timeouts are in seconds: None waits forever,
0 polls once, > 0 waits at most that long and then raises ipcx.Timeout (a
TimeoutError). Receives that wait long do so in slices, so Ctrl-C
(KeyboardInterrupt) gets through: the library itself retries EINTR.
"""

import asyncio
import collections
import ctypes
import math
import time
import weakref

from . import _lib
from ._lib import lib
from .errors import BadState, NoPeer, NotFound, PeerGone, Timeout, error

__all__ = ["Channel", "Message", "Peer", "open", "pipe", "unlink"]

# The codes the loops below look for (values fixed by libipcx's ABI).
_ETIMEDOUT = -6
_ENOBUFS = -8
_ENOTSUP = -16
_ESTATE = -20

# A receive that may wait longer than this waits in slices this long, so
# that Python gets to run its signal handlers between them.
_SLICE_MS = 200
# First size of a channel's receive buffer; it grows to the largest message.
_BUF_INIT = 64 * 1024
# Sender waiting for its receiver (open's timeout): first and longest pause.
_RETRY_MIN = 0.001
_RETRY_MAX = 0.02

Peer = collections.namedtuple("Peer", "pid uid gid")
Peer.__doc__ = ("Who sent the last message received: pid, uid, gid; None "
                "where the transport cannot tell.")

_send, _recv, _release = lib.ipcx_send, lib.ipcx_recv, lib.ipcx_release
_string_at = ctypes.string_at


def _peek(h, ptrp, _unused, ms):
    return lib.ipcx_peek(h, ptrp, ms)


_MODES = {"r": _lib.RECV, "w": _lib.SEND, "rw": _lib.SEND | _lib.RECV,
          "wr": _lib.SEND | _lib.RECV}


def _ms(timeout):
    """Seconds (None, 0, > 0) to libipcx's milliseconds (-1, 0, > 0). A
    positive timeout never rounds down to a poll."""
    if timeout is None:
        return -1
    t = float(timeout)
    if not t >= 0:  # also catches NaN
        raise ValueError("timeout must be None or >= 0 seconds, not %r"
                         % (timeout,))
    if t == 0:
        return 0
    return min(max(1, math.ceil(t * 1000)), 2**31 - 1)


def _sliced(fn, h, a, b, timeout):
    """fn(h, a, b, ms) until it returns anything but a timed-out slice,
    waiting no more than timeout in all. Returns fn's last return value."""
    if timeout is None:
        # The common case first, without arithmetic.
        while True:
            r = fn(h, a, b, _SLICE_MS)
            if r != _ETIMEDOUT:
                return r
    ms = _ms(timeout)
    if ms <= _SLICE_MS:
        return fn(h, a, b, ms)
    deadline = time.monotonic() + ms / 1000.0
    while True:
        left = math.ceil((deadline - time.monotonic()) * 1000)
        if left <= _SLICE_MS:
            return fn(h, a, b, max(left, 0))
        r = fn(h, a, b, _SLICE_MS)
        if r != _ETIMEDOUT:
            return r


def _byte_view(data):
    """A flat unsigned-byte memoryview of a buffer; a strided one (a[::2])
    stays as it is, with c_contiguous False."""
    mv = memoryview(data)
    if (mv.format != "B" or mv.ndim != 1) and mv.c_contiguous:
        mv = mv.cast("B")
    return mv


class Message:
    """A message received in place (Channel.peek()): ``view`` is a
    read-only memoryview over the ring, valid until release().

    Use it as a context manager: ``with ch.peek() as view: ...``. On exit
    the view is released, and using it afterwards raises ValueError. Views
    derived from it (slices, memoryview(view)) keep the message held in
    the ring until they are gone: release() then raises BufferError and the
    channel refuses to receive (BadState) until they are dropped. Copy what
    you keep with bytes(view[a:b]).
    """

    __slots__ = ("view", "_fin", "__weakref__")

    def __init__(self, ch, ptr, n):
        arr = (ctypes.c_ubyte * n).from_address(ptr or 0)
        # The ctypes array is the one exporter every view of this message
        # shares (slices included); when the last view is gone it dies and
        # the finaliser hands the message back to the ring. Nothing can
        # read the ring through these views after that.
        self._fin = weakref.finalize(arr, ch._release_peek)
        self._fin.atexit = False
        self.view = memoryview(arr).toreadonly().cast("B")

    def __len__(self):
        v = self.view
        return 0 if v is None else v.nbytes

    def __enter__(self):
        return self.view

    def __exit__(self, *exc):
        self.release()

    def release(self):
        """Release the view and give the message back to the ring.
        BufferError if views or exports derived from it are still alive
        (then the message stays held until they are gone)."""
        v = self.view
        if v is not None:
            try:
                v.release()
            except BufferError:
                raise BufferError(
                    "ipcx: the peeked view is still exported "
                    "(numpy.frombuffer, ctypes.from_buffer, ...): drop those "
                    "before releasing; copy with bytes() what must outlive "
                    "the message") from None
            self.view = None
        if self._fin.alive:
            raise BufferError(
                "ipcx: views sliced from the peeked message are still alive; "
                "the message stays in the ring until they are dropped "
                "(copy with bytes() what must outlive the with block)")


class Channel:
    """One ipcx channel. Made by ipcx.open() or ipcx.pipe(); close() it, or
    use it as a context manager. Not safe to share between threads without
    a lock (like the C channel)."""

    def __init__(self, handle, endpoint, mode):
        self._h = ctypes.c_void_p(handle)  # the fastest argument to pass
        self.endpoint = endpoint
        self.mode = mode
        self._buf = None  # recv's buffer (ctypes) and a byte view of it
        self._bufv = None
        self._msg = None  # the Message a peek handed out, until released
        # recv copies out of the ring once (peek, copy, release) where the
        # transport can peek; None until the first recv finds out.
        self._zc = None
        self._ptr = ctypes.c_void_p()
        self._ptrp = ctypes.byref(self._ptr)

    def __repr__(self):
        state = "closed" if self._h is None else "open"
        return "<ipcx.Channel %s mode=%r %s>" % (self.endpoint, self.mode,
                                                 state)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) is not None:
            try:
                self.close()
            except Exception:
                pass

    @property
    def closed(self):
        return self._h is None

    def _handle(self):
        if self._h is None:
            raise ValueError("I/O operation on a closed ipcx channel")
        return self._h

    def _no_peek(self, what):
        """Refuse to receive while a peeked message is still held."""
        if self._msg is not None:
            raise BadState(_ESTATE,
                           "%s: a peeked message is still held (leave its "
                           "with block, call .release(), or drop the views "
                           "sliced from it)" % what, "ESTATE")

    def _release_peek(self):
        """The finaliser of a peeked message: its last view is gone."""
        self._msg = None
        if self._h is not None:
            lib.ipcx_release(self._h)

    def close(self):
        """Stop I/O and free the channel; a no-op when closed. Releases a
        peeked message first: BufferError (the channel stays open) if views
        of it are still alive, since closing unmaps what they show."""
        if self._h is None:
            return
        m = self._msg
        if m is not None:
            m.release()
        h, self._h = self._h, None
        r = lib.ipcx_close(h)
        if r < 0:
            raise error(r)

    def fileno(self):
        """A descriptor that polls readable when a receive may make
        progress (selectors, loop.add_reader). Owned by the channel: never
        read or close it. Wake-ups may be spurious: receive with timeout=0."""
        r = lib.ipcx_fd(self._handle())
        if r < 0:
            raise error(r)
        return r

    def send(self, data, timeout=None):
        """Send data (bytes, bytearray, memoryview or any buffer) as one
        message; waits up to timeout seconds for room. Returns None once
        the whole message is in the kernel object or the ring."""
        h = self._h
        if h is None:
            self._handle()
        if type(data) is bytes:
            ptr, n = data, len(data)
        else:
            mv = _byte_view(data)
            n = mv.nbytes
            if not mv.c_contiguous:
                ptr = mv.tobytes()  # strided: gather it, in order
            elif mv.readonly:
                # ctypes cannot point at a read-only buffer it did not
                # make; a whole bytes object can be passed as it is.
                ptr = mv.obj if (type(mv.obj) is bytes and
                                 len(mv.obj) == n) else mv.tobytes()
            else:
                ptr = (ctypes.c_char * n).from_buffer(mv) if n else None
        r = _send(h, ptr, n, -1 if timeout is None else _ms(timeout))
        if r < 0:
            raise error(r)

    def sendv(self, messages, timeout=None):
        """Send each item of messages (bytes or any buffer) as one message,
        in order, with one ipcx_sendv: one system call on a stream (pipe,
        fifo, unix, tcp), one wake-up on shm. timeout bounds the whole
        call. Returns how many were sent: all, or fewer when the next one
        could not go (sending the rest again raises why). Raises when not
        even the first went."""
        h = self._h
        if h is None:
            self._handle()
        keep = [m if type(m) is bytes else _byte_view(m).tobytes()
                for m in messages]
        n = len(keep)
        if n == 0:
            return 0
        v = (_lib.Iovec_ * n)()
        for i, b in enumerate(keep):
            # The address of the bytes' own buffer: keep holds them.
            v[i].iov_base = ctypes.cast(ctypes.c_char_p(b),
                                        ctypes.c_void_p).value
            v[i].iov_len = len(b)
        r = lib.ipcx_sendv(h, v, n, -1 if timeout is None else _ms(timeout))
        if r < 0:
            raise error(r)
        return r

    def recv(self, timeout=None):
        """Receive one whole message as bytes; waits up to timeout seconds.
        PeerGone (a BrokenPipeError) when the only peer has left."""
        h = self._h
        if h is None or self._msg is not None:
            self._handle()
            self._no_peek("recv")
        if self._zc is not False:
            r = _sliced(_peek, h, self._ptrp, None, timeout)
            if r >= 0:
                self._zc = True
                try:
                    return _string_at(self._ptr.value, r) if r else b""
                finally:
                    _release(h)
            if r != _ENOTSUP or self._zc:
                raise error(r)
            self._zc = False
        buf = self._buf
        if buf is None:
            buf = self._grow(_BUF_INIT)
        r = _sliced(_recv, h, buf, len(buf), timeout)
        while r == _ENOBUFS:
            # The message waits in the transport: grow to its size (the
            # transport bounds it by its own limit) and take it.
            p = lib.ipcx_pending(h)
            if p < 0:
                raise error(r)
            buf = self._grow(max(p, 2 * len(buf)))
            r = _recv(h, buf, len(buf), 0)
        if r < 0:
            raise error(r)
        return self._bufv[:r].tobytes()

    def _grow(self, size):
        """A new receive buffer of size bytes (the old one is dropped)."""
        self._buf = ctypes.create_string_buffer(size)
        self._bufv = memoryview(self._buf).cast("B")
        return self._buf

    def recv_into(self, buffer, timeout=None):
        """Receive one message into a writable buffer; returns its length.
        BufferTooSmall (with .pending, the message's size) if it does not
        fit: the message stays queued for the next receive."""
        h = self._handle()
        self._no_peek("recv_into")
        mv = _byte_view(buffer)
        if mv.readonly:
            raise TypeError("recv_into() needs a writable buffer")
        if not mv.c_contiguous:
            raise ValueError("recv_into() needs a contiguous buffer")
        n = mv.nbytes
        arr = (ctypes.c_char * n).from_buffer(mv) if n else None
        try:
            r = _sliced(_recv, h, arr, n, timeout)
            if r < 0:
                e = error(r)
                if r == _ENOBUFS:
                    e.pending = lib.ipcx_pending(h)
                raise e
            return r
        finally:
            del arr
            mv.release()

    def peek(self, timeout=None):
        """Receive the next message in place, without a copy (shm://;
        NotSupported elsewhere): ``with ch.peek() as view:``. See Message."""
        h = self._handle()
        self._no_peek("peek")
        ptr = ctypes.c_void_p()
        r = _sliced(_peek, h, ctypes.byref(ptr), None, timeout)
        if r < 0:
            raise error(r)
        self._msg = Message(self, ptr.value, r)
        return self._msg

    @property
    def peer(self):
        """Peer(pid, uid, gid) of the last message's sender; None where the
        transport cannot tell (unix sockets and shm can)."""
        p = _lib.Peer_()
        r = lib.ipcx_peer(self._handle(), ctypes.byref(p))
        if r < 0:
            raise error(r)
        return Peer(None if p.pid == -1 else p.pid,
                    None if p.uid == 0xFFFFFFFF else p.uid,
                    None if p.gid == 0xFFFFFFFF else p.gid)

    async def recv_async(self):
        """Receive one message without blocking the event loop: waits for
        fileno() to poll readable (loop.add_reader), then polls."""
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        while True:
            try:
                return self.recv(timeout=0)
            except Timeout:
                pass
            fut = loop.create_future()

            def ready(fut=fut):
                if not fut.done():
                    fut.set_result(None)

            loop.add_reader(fd, ready)
            try:
                await fut
            finally:
                loop.remove_reader(fd)

    def __iter__(self):
        """Each message as bytes until the peer is gone."""
        while True:
            try:
                yield self.recv()
            except PeerGone:
                return

    async def __aiter__(self):
        while True:
            try:
                yield await self.recv_async()
            except PeerGone:
                return


def open(endpoint, mode="r", *, create=None, excl=False, timeout=0):
    """Open a channel on endpoint ("shm://bus", "unix:///tmp/s", ...).

    mode: "r" receive, "w" send, "rw" both (where the transport can).
    create: make the object (create the ring or FIFO, listen, bind); by
    default the receiver creates and the sender attaches, as `ipcx recv`
    and `ipcx send` do. excl: with create, fail (Exists) if it is there.
    timeout: how long a sender without create waits for the receiver to
    appear (retrying on NoPeer / NotFound as `ipcx send -t` does); 0
    fails at once, like ipcx_open().
    """
    if mode not in _MODES:
        raise ValueError("mode must be 'r', 'w' or 'rw', not %r" % (mode,))
    if create is None:
        create = mode == "r"
    if excl and not create:
        raise ValueError("excl=True needs create=True")
    flags = _MODES[mode] | (_lib.CREATE if create else 0) | \
        (_lib.EXCL if excl else 0)
    ep = endpoint.encode() if isinstance(endpoint, str) else bytes(endpoint)
    deadline = None if timeout is None else \
        time.monotonic() + _ms(timeout) / 1000.0
    pause = _RETRY_MIN
    while True:
        h = ctypes.c_void_p()
        r = lib.ipcx_open(ep, flags, ctypes.byref(h))
        if r == 0:
            return Channel(h.value, ep.decode(errors="replace"), mode)
        e = error(r)
        if create or not isinstance(e, (NoPeer, NotFound)):
            raise e
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise e
            pause = min(pause, left)
        time.sleep(pause)
        pause = min(pause * 2, _RETRY_MAX)


def pipe(options=None):
    """An anonymous pipe as (reader, writer) channels, for a process and
    the child it forks. options: None, "raw" or "maxmsg=N"."""
    rd, wr = ctypes.c_void_p(), ctypes.c_void_p()
    opt = options.encode() if isinstance(options, str) else options
    r = lib.ipcx_pipe(opt, ctypes.byref(rd), ctypes.byref(wr))
    if r < 0:
        raise error(r)
    return Channel(rd.value, "pipe://", "r"), Channel(wr.value, "pipe://", "w")


def unlink(endpoint, missing_ok=False):
    """Remove the named object behind an endpoint (a shm ring, a FIFO, a
    unix socket file). NotFound (FileNotFoundError) if there is none,
    unless missing_ok."""
    ep = endpoint.encode() if isinstance(endpoint, str) else bytes(endpoint)
    r = lib.ipcx_unlink(ep)
    if r < 0:
        e = error(r)
        if missing_ok and isinstance(e, NotFound):
            return
        raise e
