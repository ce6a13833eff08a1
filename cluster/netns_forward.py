"""A TCP forwarder between network namespaces: listens on an address inside one namespace and connects
to an address inside another, so the local cluster's pieces meet without opening anything else.

    python netns_forward.py LISTEN_NS LISTEN_HOST:PORT CONNECT_NS CONNECT_HOST:PORT

A namespace is a name under /var/run/netns, or `host` for the namespace this process starts in. Used
for: pods reaching the API server (listen in the cluster's underlay, connect to 127.0.0.1 on the host)
and a loopback URL answering through the ingress (listen on 127.0.0.1, connect to a node inside its
namespace). Stdlib only; exits on SIGTERM.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
HOST_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def inside(namespace: str) -> Iterator[None]:
    """This thread in `namespace` for the block (sockets made there stay there)."""
    if namespace == "host":
        yield
        return
    fd = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        _setns(fd)
        yield
    finally:
        _setns(HOST_NS)
        os.close(fd)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(listen_ns: str, listen: tuple[str, int], connect_ns: str, target: tuple[str, int]) -> None:
    with inside(listen_ns):
        listener = socket.create_server(listen, reuse_port=False)
    listener.setblocking(False)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with inside(connect_ns):  # the event loop's thread: no await inside this block
                upstream = socket.create_connection(target, timeout=5)
            upstream.setblocking(False)
            up_reader, up_writer = await asyncio.open_connection(sock=upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, sock=listener)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"forwarding {listen_ns} {listen[0]}:{listen[1]} -> {connect_ns} {target[0]}:{target[1]}", flush=True
    )
    async with server:
        await stop.wait()


def main(argv: list[str]) -> None:
    if len(argv) != 4:
        sys.exit(__doc__)
    asyncio.run(serve(argv[0], _address(argv[1]), argv[2], _address(argv[3])))


if __name__ == "__main__":
    main(sys.argv[1:])
