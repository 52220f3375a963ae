"""Attachments from a path, bytes or an open file, streamed into the send body: several
megabytes sent through a real server arrive byte for byte, a retried send sends them again,
and the sending process never holds the file in memory whole."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from tests.support.api import wait_for
from tests.support.live import LiveServer
from tests.support.process import serve_process
from tidings import AsyncTidings, Message, OutboundAttachment, RetryOptions, Tidings
from tidings_server.clock import FakeClock

ANA, BOB = "ana@agents.localhost", "bob@agents.localhost"
MB = 1024 * 1024


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "dataset.bin"
    path.write_bytes(os.urandom(5 * MB + 7))  # not a multiple of 3 or of the chunk size
    return path


def received(td: Tidings, subject: str) -> tuple[Message, dict[str, bytes]]:
    """Bob's copy of the message with this subject, and each attachment's bytes by name."""
    [summary] = wait_for(lambda: td.messages.list(BOB, direction="inbound").data)
    assert summary.subject == subject
    copy = td.messages.get(BOB, summary.id)
    files = {
        a.filename or "": td.messages.get_attachment(BOB, copy.id, a.id) for a in copy.attachments
    }
    return copy, files


def test_a_file_of_several_megabytes_arrives_byte_for_byte(
    server: LiveServer, big_file: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("line one\nline two\n")
    with Tidings(server.root_key, base_url=server.base_url) as td:
        ana = td.identities.create("ana")
        td.identities.create("bob")
        with notes.open("rb") as opened:
            sent = ana.send_email(
                to=[BOB], subject="The data", body_html='<p><img src="cid:logo"></p>',
                attachments=[
                    OutboundAttachment(path=big_file),
                    OutboundAttachment(file=opened),
                    OutboundAttachment(
                        content=b"\x89PNG\r\n\x1a\n", display_name="logo.png", content_id="logo"
                    ),
                    OutboundAttachment(content=b"a,b\n1,2\n", display_name="Bericht März.csv"),
                ],
            )  # fmt: skip
        assert {a.filename: a.size for a in sent.attachments} == {
            "dataset.bin": big_file.stat().st_size, "notes.txt": 18, "logo.png": 8,
            "Bericht März.csv": 8,
        }  # fmt: skip
        copy, files = received(td, "The data")
    assert files["dataset.bin"] == big_file.read_bytes()
    assert files["notes.txt"] == notes.read_bytes()
    assert files["Bericht März.csv"] == b"a,b\n1,2\n"
    types = {a.filename: a.content_type for a in copy.attachments}
    assert types["dataset.bin"] == "application/octet-stream"
    assert types["notes.txt"] == "text/plain"
    assert types["logo.png"] == "image/png"
    [logo] = [a for a in copy.attachments if a.filename == "logo.png"]
    assert (logo.content_id, logo.inline) == ("logo", True)


def test_a_retried_send_sends_every_attachment_again(
    limited: tuple[LiveServer, FakeClock], big_file: Path
) -> None:
    """The server reads the whole body, then refuses it (429); the retry must send it all
    again: the path opened anew, the open file sought back to where it stood."""
    server, clock = limited
    attempts: list[float] = []

    def sleep(seconds: float) -> None:
        attempts.append(seconds)
        clock.advance(seconds)

    opened = io.BytesIO(b"skipped header|" + os.urandom(300_001))
    opened.seek(len(b"skipped header|"))  # a file is sent from where it stands
    with Tidings(server.root_key, base_url=server.base_url, retry=RetryOptions(sleep=sleep)) as td:
        td.identities.create("ana")
        td.identities.create("bob")
        td.whoami()  # the window's third request: the send is the fourth, refused once
        td.messages.send(
            ANA, to=[BOB], subject="Retried",
            attachments=[
                OutboundAttachment(path=big_file),
                OutboundAttachment(file=opened, display_name="part.bin"),
            ],
        )  # fmt: skip
        assert len(attempts) == 1
        _, files = received(td, "Retried")
    assert files["dataset.bin"] == big_file.read_bytes()
    assert files["part.bin"] == opened.getvalue()[len(b"skipped header|") :]


async def test_the_async_client_streams_attachments_too(server: LiveServer, big_file: Path) -> None:
    async with AsyncTidings(server.root_key, base_url=server.base_url) as td:
        ana = await td.identities.create("ana")
        await td.identities.create("bob")
        await ana.send_email(
            to=[BOB], subject="Async data", attachments=[OutboundAttachment(path=big_file)]
        )
    with Tidings(server.root_key, base_url=server.base_url) as sync:
        _, files = received(sync, "Async data")
    assert (
        hashlib.sha256(files["dataset.bin"]).digest()
        == hashlib.sha256(big_file.read_bytes()).digest()
    )


def test_sending_a_large_file_never_holds_it_in_memory(big_file: Path, tmp_path: Path) -> None:
    """With the server in another process, this process's allocations are the SDK's alone."""
    with serve_process(tmp_path / "data") as server, Tidings(
        server.root_key, base_url=server.base_url
    ) as td:  # fmt: skip
        bot = td.identities.create("bot")
        tracemalloc.start()
        try:
            sent = bot.send_email(
                to=["ana@example.com"], subject="Big",
                attachments=[OutboundAttachment(path=big_file)],
            )  # fmt: skip
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert [a.size for a in sent.attachments] == [big_file.stat().st_size]
    assert peak < 2 * MB, (
        f"peak {peak / MB:.1f} MB while sending a {big_file.stat().st_size / MB:.0f} MB file"
    )


def test_an_attachment_says_what_is_wrong_with_it(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF")
    assert OutboundAttachment(path=path).media_type == "application/pdf"
    assert OutboundAttachment(path=path, display_name="Q3.pdf").filename == "Q3.pdf"
    with pytest.raises(ValueError, match="exactly one"):
        OutboundAttachment()
    with pytest.raises(ValueError, match="exactly one"):
        OutboundAttachment(path=path, content=b"x")
    with pytest.raises(ValueError, match="display_name"):
        OutboundAttachment(content=b"x")
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as pipe, pytest.raises(ValueError, match="seekable"):
        OutboundAttachment(file=pipe)
    os.close(write_end)
