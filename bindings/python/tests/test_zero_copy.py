"""test_zero_copy.py - peek(): a memoryview over the ring that is released
on exit, raises afterwards, and never outlives the message it shows."""

import gc
import io

import pytest

import ipcx


@pytest.fixture
def shm(name):
    ep = "shm://" + name("zc")
    rx = ipcx.open(ep, "r")
    tx = ipcx.open(ep, "w")
    yield rx, tx
    tx.close()
    rx.close()
    ipcx.unlink(ep)


def test_view_is_the_message_and_dies_on_exit(shm):
    rx, tx = shm
    tx.send(b"zero copy")
    with rx.peek(timeout=5) as view:
        assert isinstance(view, memoryview) and view.readonly
        assert view.format == "B" and view.nbytes == 9
        assert bytes(view) == b"zero copy" and view[0] == ord("z")
    for use in (lambda: view[0], lambda: bytes(view), lambda: view.nbytes):
        with pytest.raises(ValueError):
            use()
    # The ring has the message back: the next one comes through.
    tx.send(b"next")
    assert rx.recv(timeout=5) == b"next"


def test_empty_message(shm):
    rx, tx = shm
    tx.send(b"")
    with rx.peek(timeout=5) as view:
        assert view.nbytes == 0


def test_view_is_read_only(shm):
    rx, tx = shm
    tx.send(b"ro")
    with rx.peek(timeout=5) as view:
        with pytest.raises(TypeError):
            view[0] = 0


def test_slice_outliving_the_block_holds_the_message(shm):
    """A slice kept past the with block keeps the message in the ring
    (never shows freed memory): leaving raises BufferError, receiving
    is refused until the slice is dropped, then the ring moves on."""
    rx, tx = shm
    tx.send(b"first")
    tx.send(b"second")
    with pytest.raises(BufferError):
        with rx.peek(timeout=5) as view:
            part = view[1:3]
    assert bytes(part) == b"ir"  # still the first message, intact
    with pytest.raises(ipcx.BadState):
        rx.recv(timeout=0)
    with pytest.raises(BufferError):
        rx.close()  # would unmap what part shows
    assert not rx.closed
    del part
    gc.collect()
    assert rx.recv(timeout=5) == b"second"


def test_export_blocks_release(shm):
    """An export of the view itself (what numpy.frombuffer holds; here a
    PickleBuffer) makes release() raise and keeps the view usable until
    the export is gone."""
    import pickle
    rx, tx = shm
    tx.send(b"exported")
    m = rx.peek(timeout=5)
    held = pickle.PickleBuffer(m.view)
    with pytest.raises(BufferError):
        m.release()
    assert bytes(m.view) == b"exported" and bytes(held.raw()) == b"exported"
    held.release()
    m.release()
    with pytest.raises(ValueError):
        held.raw()
    tx.send(b"after")
    assert rx.recv(timeout=5) == b"after"


def test_close_releases_an_open_peek(shm):
    rx, tx = shm
    tx.send(b"left open")
    m = rx.peek(timeout=5)
    view = m.view
    rx.close()
    with pytest.raises(ValueError):
        view[0]


def test_peek_where_not_supported():
    rx, tx = ipcx.pipe()
    with rx, tx:
        tx.send(b"x")
        with pytest.raises(io.UnsupportedOperation) as e:
            rx.peek(timeout=5)
        assert e.value.name == "ENOTSUP"
        assert rx.recv(timeout=5) == b"x"
