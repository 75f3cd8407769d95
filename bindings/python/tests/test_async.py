"""test_async.py - asyncio: recv_async() and loop.add_reader on fileno()."""

import asyncio
import threading

import ipcx


def test_recv_async_shm(name):
    ep = "shm://" + name("aio")

    async def main():
        with ipcx.open(ep, "r") as rx, ipcx.open(ep, "w") as tx:
            loop = asyncio.get_running_loop()
            # A sender in another thread, after the receiver waits.
            go = threading.Event()
            sender = threading.Thread(target=lambda: (
                go.wait(5), [tx.send(b"m%d" % i, timeout=5)
                             for i in range(5)]))
            sender.start()
            loop.call_soon(go.set)
            try:
                got = [await asyncio.wait_for(rx.recv_async(), 10)
                       for _ in range(5)]
            finally:
                sender.join()
            return got

    try:
        assert asyncio.run(main()) == [b"m%d" % i for i in range(5)]
    finally:
        ipcx.unlink(ep)


def test_async_for_until_peer_gone():
    async def main():
        rx, tx = ipcx.pipe()
        with rx:
            asyncio.get_running_loop().call_soon(
                lambda: ([tx.send(b"a"), tx.send(b"b")], tx.close()))
            return [m async for m in rx]

    assert asyncio.run(main()) == [b"a", b"b"]


def test_add_reader(name):
    ep = "unix://@" + name("aio")

    async def main():
        with ipcx.open(ep, "r") as rx, ipcx.open(ep, "w") as tx:
            loop = asyncio.get_running_loop()
            got = loop.create_future()

            def readable():
                try:
                    m = rx.recv(timeout=0)
                except ipcx.Timeout:
                    return  # a spurious wake-up
                loop.remove_reader(rx.fileno())
                got.set_result(m)

            loop.add_reader(rx.fileno(), readable)
            loop.call_soon(tx.send, b"ready")
            return await asyncio.wait_for(got, 10)

    assert asyncio.run(main()) == b"ready"


def test_recv_async_cancel_leaves_no_reader(name):
    ep = "shm://" + name("cancel")

    async def main():
        with ipcx.open(ep, "r") as rx:
            try:
                await asyncio.wait_for(rx.recv_async(), 0.05)
            except asyncio.TimeoutError:
                pass
            loop = asyncio.get_running_loop()
            # remove_reader is False when nothing is registered any more.
            return loop.remove_reader(rx.fileno())

    assert asyncio.run(main()) is False
    ipcx.unlink(ep)
