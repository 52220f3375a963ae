"""Decoding a `text/event-stream` body into messages, as the HTML standard describes it.

Lines end in CR, LF or CRLF and nothing else. That is why this splits the bytes itself rather
than using httpx's `iter_lines`, which also breaks on U+2028, U+0085 and friends: characters
that JSON leaves unescaped, so a message body containing one would be cut in two.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Comment", "Message", "SSEDecoder"]


@dataclass(frozen=True)
class Message:
    """One dispatched message: its `data` lines joined by newlines."""

    data: str
    event: str = "message"
    id: str | None = None


@dataclass(frozen=True)
class Comment:
    """A line starting with a colon; the server sends `: heartbeat` while nothing happens."""

    text: str


class SSEDecoder:
    """Feed it the body's bytes as they arrive; it answers with what each chunk completed.

    One decoder reads one connection: a message cut off by a dropped connection is never
    dispatched (its blank line never came), so a reconnect cannot deliver half an event.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._skip_lf = False
        self._first_line = True
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None  # persists across messages, as the standard says
        # What a reconnection resumes from: the id as of the last blank line. A message cut
        # off after its `id:` line must not count, or resuming would skip it.
        self.last_id: str | None = None
        self.retry: float | None = None  # seconds, from the last valid `retry:` field

    def feed(self, chunk: bytes) -> list[Message | Comment]:
        found: list[Message | Comment] = []
        for line in self._lines(chunk):
            item = self._line(line)
            if item is not None:
                found.append(item)
        return found

    def _lines(self, chunk: bytes) -> list[str]:
        if self._skip_lf and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        self._skip_lf = False
        buffer = self._pending + chunk
        lines: list[str] = []
        start = 0
        while True:
            cr, lf = buffer.find(b"\r", start), buffer.find(b"\n", start)
            if cr == -1 and lf == -1:
                break
            end = lf if cr == -1 or (lf != -1 and lf < cr) else cr
            lines.append(self._decode(buffer[start:end]))
            start = end + 1
            if buffer[end : end + 1] == b"\r":
                if start == len(buffer):
                    self._skip_lf = True  # a line ends at a CR at once; a LF may follow
                elif buffer[start : start + 1] == b"\n":
                    start += 1
        self._pending = buffer[start:]
        return lines

    def _decode(self, raw: bytes) -> str:
        text = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            text = text.removeprefix("\ufeff")  # a byte order mark may open the stream
        return text

    def _line(self, line: str) -> Message | Comment | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return Comment(line[1:].strip())
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value) / 1000
        return None  # unknown fields are ignored

    def _dispatch(self) -> Message | None:
        self.last_id = self._id
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None  # a block of only `id:`/`retry:`/`event:` lines dispatches nothing
        return Message(data="\n".join(data), event=event or "message", id=self.last_id)
