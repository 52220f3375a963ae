"""Answers that stream a blob (raw messages, attachments) instead of JSON."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import StreamingResponse

from tidings_server.blobs import BlobStore


def content_disposition(kind: str, filename: str) -> str:
    """`attachment; filename="..."; filename*=UTF-8''...` that every client can read."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    ascii_name = "".join(c for c in ascii_name if c.isprintable()) or "download"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stream_blob(
    blobs: BlobStore, key: str, *, media_type: str, filename: str, size: int, inline: bool = False
) -> StreamingResponse:
    return StreamingResponse(
        blobs.stream(key),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(
                "inline" if inline else "attachment", filename
            ),
            "Content-Length": str(size),
            "X-Content-Type-Options": "nosniff",
        },
    )
