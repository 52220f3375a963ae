"""The SSE decoder on its own: however the bytes are cut into chunks, the same messages."""

from __future__ import annotations

import pytest

from tidings._sse import Comment, Message, SSEDecoder

STREAM = (
    b"\xef\xbb\xbfretry: 1500\r\n\r\n"  # a byte order mark opens the stream
    b": heartbeat\r\r"  # CR alone ends a line too
    b'id: 1\nevent: custom\ndata: {"a":\ndata:  "b\xe2\x80\xa8c"}\n\n'
    b"data\n\n"  # a field name alone: an empty data line
    b"retry: soon\nunknown: x\ndata:no space\n\n"
    b"id: 2\n\n"  # an id without data moves the resume point, dispatches nothing
    b"id: 3\ndata: cut off"
)
EXPECTED: list[Message | Comment] = [
    Comment("heartbeat"),
    Message(data='{"a":\n "b\u2028c"}', event="custom", id="1"),
    Message(data="", id="1"),
    Message(data="no space", id="1"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(STREAM)])
def test_chunks_of_any_size_decode_the_same(size: int) -> None:
    decoder = SSEDecoder()
    found = []
    for start in range(0, len(STREAM), size):
        found += decoder.feed(STREAM[start : start + size])
    assert found == EXPECTED
    assert decoder.retry == 1.5  # `retry: soon` is not a number and is ignored
    assert decoder.last_id == "2"  # `id: 3` belongs to a message that never ended


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\r") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r\n") == [Message(data="x")]
