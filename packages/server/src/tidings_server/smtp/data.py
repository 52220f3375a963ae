"""DATA read in blocks: a faster reader for the message itself than aiosmtpd's.

aiosmtpd reads DATA a line at a time, and its stream reader's limit is the line-length limit
(1,001 bytes), so a 100 KiB message was about 1,300 trips through its loop and the transport
paused and resumed every few KiB: a third of the event loop's time when ingesting 100 KiB
messages. `read_data` takes the message in blocks, as far as the end marker or as much as
the reader holds, and checks line lengths, size and dot-stuffing on the whole. The replies
are aiosmtpd's own, in the same cases (`smtp.protocol` gives them).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

END = b"\r\n.\r\n"


@dataclass(frozen=True)
class Data:
    """A message as received: `content` with dot-stuffing undone, or why it is refused."""

    content: bytes
    too_long_line: bool = False
    too_much: bool = False


def _end_overlap(tail: bytes) -> int:
    """How many bytes at the end of `tail` could begin the end marker (0 to 4)."""
    for size in range(len(END) - 1, 0, -1):
        if tail.endswith(END[:size]):
            return size
    return 0


async def read_data(
    reader: asyncio.StreamReader, *, size_limit: int | None, line_limit: int
) -> Data:
    """Read one message up to and including `<CRLF>.<CRLF>`, leaving what follows (a pipelined
    command) in `reader`. A message over `size_limit` bytes, or with a line (CRLF included)
    over `line_limit`, is read to its end and dropped, as aiosmtpd does."""
    kept = bytearray()
    received = 0
    # The line before DATA ended with CRLF, so ".\r\n" right away ends the message. Until what
    # has been read can no longer be the start of the marker, read just enough to tell.
    tail = b"\r\n"
    while (overlap := _end_overlap(tail)) > 0:
        more = await reader.readexactly(len(END) - overlap)
        kept += more
        received += len(more)
        if more == END[overlap:]:
            del kept[-3:]  # the marker's ".\r\n"; its CRLF ends the last line
            received -= 3
            return _finish(kept, received, size_limit, line_limit)
        tail = (tail + more)[-(len(END) - 1) :]
    while True:
        try:
            block = await reader.readuntil(END)
            done = True
        except asyncio.LimitOverrunError as exc:
            # No marker in the buffer (or it lies beyond the reader's limit): take what
            # certainly precedes it. No marker can straddle this cut: its last bytes are kept.
            block = await reader.readexactly(exc.consumed)
            done = False
        if done:
            block = block[:-3]  # the marker's ".\r\n"; its CRLF ends the last line
        received += len(block)
        if size_limit and received > size_limit:
            kept.clear()  # read on to the end, keeping nothing
        else:
            kept += block
        if done:
            return _finish(kept, received, size_limit, line_limit)


def _finish(kept: bytearray, received: int, size_limit: int | None, line_limit: int) -> Data:
    if size_limit and received > size_limit:
        return Data(b"", too_much=True)
    # A line's limit counts its CRLF; the last line's CRLF was read as part of the marker.
    if max(map(len, kept.split(b"\r\n"))) + 2 > line_limit:
        return Data(b"", too_long_line=True)
    content = bytes(kept).replace(b"\r\n.", b"\r\n")
    if content.startswith(b"."):
        content = content[1:]
    return Data(content)
