"""The listening sockets the copies of `tidings serve --processes` share, and how they accept.

Every copy waits on the same accept queue. asyncio accepts as many connections per wakeup as
the `backlog` it was given (uvicorn passes 2048), so the first copy to wake took every
connection waiting and the others idled: with wrk's eight keep-alive connections, all eight
went to one copy, and two processes served reads no faster than one. Copies accept one
connection per wakeup instead (`ACCEPTS_PER_WAKEUP`), so a copy that is busy with a request
leaves the next connection to one that is waiting. asyncio also calls `listen()` again with
that number; `SharedSocket` keeps the queue's length the supervisor set.
"""

from __future__ import annotations

import socket

LISTEN_QUEUE = 2048
ACCEPTS_PER_WAKEUP = 1


class SharedSocket(socket.socket):
    def listen(self, backlog: int = LISTEN_QUEUE, /) -> None:
        # The argument is asyncio's accept batch, not a queue length.
        super().listen(LISTEN_QUEUE)


def listen_socket(host: str, port: int) -> SharedSocket:
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that say they
    # are TCP, and without it every answer on a keep-alive connection waited 40 ms for the
    # client's delayed ACK (Nagle's algorithm).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = SharedSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock
