"""Reading DATA in blocks: the same message as reading it line by line, however it arrives."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from tidings_server.smtp.data import Data, read_data

LINE_LIMIT = 1001


def by_lines(stream: bytes) -> tuple[bytes, bytes]:
    """RFC 5321 4.5.2 read the plain way: lines up to a lone dot, one leading dot removed.
    Returns the message and what follows it."""
    content, position = [], 0
    while True:
        end = stream.index(b"\r\n", position)
        line = stream[position:end]
        position = end + 2
        if line == b".":
            return b"".join(content), stream[position:]
        content.append((line[1:] if line.startswith(b".") else line) + b"\r\n")


async def read(
    stream: bytes, pieces: list[int] | None = None, *, size_limit: int | None = None
) -> tuple[Data, bytes]:
    """`read_data` over `stream` arriving in pieces of the given sizes (all at once if none);
    returns what it read and what it left in the reader."""
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    task = asyncio.create_task(read_data(reader, size_limit=size_limit, line_limit=LINE_LIMIT))
    position = 0
    for size in [*(pieces or []), len(stream)]:
        reader.feed_data(stream[position : position + size])
        position += size
        await asyncio.sleep(0)
    reader.feed_eof()
    data = await task
    return data, await reader.read()


async def test_a_message_ends_at_a_lone_dot_and_the_next_command_stays_unread() -> None:
    data, rest = await read(b"Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    assert data == Data(b"Subject: hi\r\n\r\nbody\r\n")
    assert rest == b"QUIT\r\n"


async def test_an_empty_message_is_just_the_dot() -> None:
    assert await read(b".\r\nQUIT\r\n") == (Data(b""), b"QUIT\r\n")


async def test_a_leading_dot_is_removed_from_each_line_once() -> None:
    data, _ = await read(b"..\r\n...three\r\nmid.dle\r\n.\r\n")
    assert data.content == b".\r\n..three\r\nmid.dle\r\n"


async def test_bare_line_feeds_and_carriage_returns_around_a_dot_are_content() -> None:
    stream = b"a\n.\nb\r.\rc\n.\r\nd\r\n.\r\n"
    data, rest = await read(stream)
    assert data.content == b"a\n.\nb\r.\rc\n.\r\nd\r\n"
    assert rest == b""


async def test_the_end_marker_split_across_reads_is_still_found() -> None:
    body = (b"x" * 98 + b"\r\n") * 30
    stream = body + b".\r\nNOOP\r\n"
    for cut in range(len(body) - 5, len(body) + 6):
        data, rest = await read(stream, [cut])
        assert (data.content, rest) == (body, b"NOOP\r\n"), cut


async def test_a_line_over_the_limit_is_refused_and_one_at_it_is_not() -> None:
    at_limit = b"a" * (LINE_LIMIT - 2) + b"\r\n"
    assert (await read(at_limit + b".\r\n"))[0] == Data(at_limit)
    over, rest = await read(b"a" * LINE_LIMIT + b"\r\n.\r\nQUIT\r\n")
    assert over.too_long_line
    assert over.content == b""
    assert rest == b"QUIT\r\n"


async def test_a_message_over_the_size_limit_is_read_to_its_end_and_dropped() -> None:
    line = b"y" * 98 + b"\r\n"
    data, rest = await read(line * 100 + b".\r\nQUIT\r\n", [700, 3000], size_limit=5_000)
    assert data.too_much
    assert data.content == b""
    assert rest == b"QUIT\r\n"
    assert (await read(line * 40 + b".\r\n", size_limit=5_000))[0] == Data(line * 40)


_lines = st.lists(
    st.one_of(
        st.sampled_from([b"", b".", b"..", b".x", b"\r", b"\n", b"\n.", b".\r", b"a\r\nb"]),
        st.binary(max_size=40),
    ),
    max_size=20,  # lines stay within the limit: 20 parts of at most 40 bytes
).map(lambda parts: b"".join(parts))


@settings(max_examples=300, deadline=None)
@given(
    body=_lines,
    pieces=st.lists(st.integers(min_value=1, max_value=1500), max_size=6),
)
async def test_any_message_reads_as_it_does_line_by_line(body: bytes, pieces: list[int]) -> None:
    # `body` may hold CRLFs, lone dots and bare CR/LF anywhere; stuffed as a client would,
    # then ended, it must come back as the line-by-line reading gives it.
    lines = body.split(b"\r\n")
    stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
    stream = stuffed + b".\r\nRSET\r\n"
    expected, after = by_lines(stream)
    data, rest = await read(stream, pieces)
    assert (data.content, rest) == (expected, after)
    assert data.content == body + b"\r\n"
