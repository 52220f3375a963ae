"""Attachments to send, and the request body that streams them in.

A send body is JSON with each attachment's bytes in base64. `JSONBody` writes it in parts:
the JSON around the attachments as pydantic dumped it, and each attachment read and encoded
a chunk at a time while httpx sends, so a large file is never in memory whole. Each attempt
starts over (the path is opened again, the file sought back), so a retry sends the same bytes.
"""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tidings._bodies import AttachmentBody, Body

__all__ = ["JSONBody", "OutboundAttachment", "attachment_bodies"]

# A multiple of 3, so the base64 of consecutive chunks joined is the base64 of the whole.
CHUNK = 3 * 64 * 1024


@dataclass(frozen=True, eq=False)
class OutboundAttachment:
    """A file to attach: exactly one of `path`, `content` (bytes) or `file` (open, binary).

    `display_name` is the file name recipients see (default: the path's or file's own name;
    bytes need one). `content_type` defaults to a guess from that name. `content_id` makes it
    an inline part that HTML refers to as `cid:<content_id>`. A file is read from where it
    stands when the send is made, and must be seekable so that a retry can send it again.
    """

    path: str | os.PathLike[str] | None = None
    content: bytes | None = None
    file: BinaryIO | None = None
    display_name: str | None = None
    content_type: str | None = None
    content_id: str | None = None

    def __post_init__(self) -> None:
        given = [n for n in ("path", "content", "file") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("an OutboundAttachment takes exactly one of path=, content=, file=")
        if self.file is not None and not self.file.seekable():
            raise ValueError("file= must be seekable (a retry reads it again); pass content=")
        if not self.filename:
            raise ValueError("an attachment given as content= needs display_name=")

    @property
    def filename(self) -> str:
        if self.display_name:
            return self.display_name
        if self.path is not None:
            return Path(self.path).name
        name = getattr(self.file, "name", None)
        return Path(name).name if isinstance(name, str) else ""

    @property
    def media_type(self) -> str:
        guessed, _ = mimetypes.guess_type(self.filename)
        return self.content_type or guessed or "application/octet-stream"


class _Source:
    """One attachment's content as it stands when the request is made: where and how long."""

    def __init__(self, attachment: OutboundAttachment) -> None:
        self.attachment = attachment
        self.placeholder = f"tidings-attachment-{uuid.uuid4().hex}"
        self.start = 0
        if attachment.content is not None:
            self.size = len(attachment.content)
        elif attachment.path is not None:
            self.size = os.stat(attachment.path).st_size
        else:
            assert attachment.file is not None
            self.start = attachment.file.tell()
            self.size = attachment.file.seek(0, os.SEEK_END) - self.start
            attachment.file.seek(self.start)

    @property
    def encoded_length(self) -> int:
        return 2 + 4 * -(-self.size // 3)  # the quotes, and base64's padded length

    def _opened(self) -> AbstractContextManager[BinaryIO]:
        if self.attachment.path is not None:
            return Path(self.attachment.path).open("rb")
        file = self.attachment.file
        assert file is not None
        file.seek(self.start)
        return nullcontext(file)  # the caller's file: theirs to close

    def chunks(self) -> Iterator[bytes]:
        """The JSON string `"<base64>"`, a chunk at a time, from the beginning."""
        yield b'"'
        content = self.attachment.content
        if content is not None:
            for offset in range(0, self.size, CHUNK):
                yield base64.b64encode(content[offset : offset + CHUNK])
        else:
            with self._opened() as handle:
                for offset in range(0, self.size, CHUNK):
                    yield base64.b64encode(self._read(handle, min(CHUNK, self.size - offset)))
        yield b'"'

    def _read(self, handle: BinaryIO, wanted: int) -> bytes:
        block = b""
        while len(block) < wanted:  # a read may return less than asked before the end
            more = handle.read(wanted - len(block))
            if not more:
                raise ValueError(f"{self.attachment.filename} got shorter while it was sent")
            block += more
        return block


def attachment_bodies(
    attachments: Sequence[OutboundAttachment],
) -> tuple[list[AttachmentBody] | None, list[_Source]]:
    """The attachments as body models (their content a placeholder), and their sources."""
    sources = [_Source(a) for a in attachments]
    bodies = [
        AttachmentBody.given(
            filename=s.attachment.filename,
            content_type=s.attachment.media_type,
            content_id=s.attachment.content_id,
            content_base64=s.placeholder,
        )
        for s in sources
    ]
    return bodies or None, sources


class JSONBody:
    """A request body: the model's JSON, with each source's content streamed in its place."""

    def __init__(self, model: Body, sources: Sequence[_Source] = ()) -> None:
        self.model = model
        rest = model.json_bytes()
        self._parts: list[bytes | _Source] = []
        for source in sources:
            before, found, rest = rest.partition(b'"%s"' % source.placeholder.encode())
            assert found, "every attachment's placeholder is in the body once"
            self._parts += [before, source]
        self._parts.append(rest)
        self.length = sum(len(p) if isinstance(p, bytes) else p.encoded_length for p in self._parts)

    @property
    def streamed(self) -> bool:
        return len(self._parts) > 1

    def content(self) -> bytes | Iterator[bytes]:
        """What httpx sends: the bytes, or a fresh iterator over them for each attempt."""
        return self._whole() if not self.streamed else self._chunks()

    def _whole(self) -> bytes:
        [part] = self._parts
        assert isinstance(part, bytes)
        return part

    def _chunks(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
            else:
                yield from part.chunks()

    def acontent(self) -> bytes | AsyncIterator[bytes]:
        return self._whole() if not self.streamed else self._achunks()

    async def _achunks(self) -> AsyncIterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
                continue
            chunks = part.chunks()
            # File reads happen in a worker thread, so a slow disk never stalls the loop.
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                yield chunk
