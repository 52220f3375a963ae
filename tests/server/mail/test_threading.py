"""Threading end to end: mail arrives over SMTP and lands in the conversation a reader expects.

Every message records how it was placed (`thread_match`): `references`, `in_reply_to`,
`subject` or `new`.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer

BOT = "bot@agents.localhost"
MESSAGES = f"/v1/mailboxes/{BOT}/messages"


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx2.Client]:
    """A root client with the identity `bot` (bot@agents.localhost) created."""
    with server.client() as client:
        assert client.post("/v1/identities", json={"handle": "bot"}).status_code == 201
        yield client


def deliver(
    server: LiveServer, api: httpx2.Client, sender: str, subject: str, **headers: str
) -> dict[str, Any]:
    """Send a message to bot over SMTP and return it as the API shows it."""
    lines = [f"From: {sender}", f"To: {BOT}", f"Subject: {subject}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    raw = ("\r\n".join(lines) + "\r\n\r\nHello\r\n").encode()
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail(sender.rpartition("<")[2].rstrip(">"))
        assert smtp.rcpt(BOT)[0] == 250
        code, reply = smtp.data(raw)
    assert code == 250, reply
    time.sleep(0.002)  # ids are millisecond-sortable: keep arrival order unambiguous
    message: dict[str, Any] = api.get(f"{MESSAGES}/{reply.decode().split()[2]}").json()
    return message


def thread(api: httpx2.Client, thread_id: str) -> dict[str, Any]:
    answer = api.get(f"/v1/mailboxes/{BOT}/threads/{thread_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_first_message_starts_a_thread(server: LiveServer, api: httpx2.Client) -> None:
    first = deliver(server, api, "ana@example.com", "Quarterly report", Message_ID="<q1@ex.com>")
    assert first["thread_match"] == "new"
    started = thread(api, first["thread_id"])
    assert started["subject"] == "Quarterly report"
    assert started["message_count"] == 1


def test_a_reply_with_references_joins_the_thread(server: LiveServer, api: httpx2.Client) -> None:
    first = deliver(server, api, "ana@example.com", "Quarterly report", Message_ID="<q1@ex.com>")
    # A different subject and sender: the headers alone say where it belongs.
    reply = deliver(
        server,
        api,
        "carol@example.net",
        "Numbers for Q3",
        Message_ID="<q2@ex.net>",
        In_Reply_To="<q1@ex.com>",
        References="<q1@ex.com>",
    )
    assert reply["thread_id"] == first["thread_id"]
    assert reply["thread_match"] == "references"
    assert reply["in_reply_to"] == "<q1@ex.com>"
    assert reply["references"] == ["<q1@ex.com>"]


def test_a_reply_with_only_in_reply_to_joins_the_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, api, "ana@example.com", "Quarterly report", Message_ID="<q1@ex.com>")
    reply = deliver(
        server,
        api,
        "carol@example.net",
        "Numbers",
        Message_ID="<q2@ex.net>",
        In_Reply_To="<q1@ex.com>",
    )
    assert reply["thread_id"] == first["thread_id"]
    assert reply["thread_match"] == "in_reply_to"


def test_references_win_over_a_misleading_subject(server: LiveServer, api: httpx2.Client) -> None:
    budget = deliver(server, api, "ana@example.com", "Budget", Message_ID="<b1@ex.com>")
    deliver(server, api, "ana@example.com", "Holidays", Message_ID="<h1@ex.com>")
    reply = deliver(
        server,
        api,
        "ana@example.com",
        "Re: Holidays",
        Message_ID="<b2@ex.com>",
        References="<b1@ex.com>",
    )
    assert reply["thread_id"] == budget["thread_id"]
    assert reply["thread_match"] == "references"


def test_an_unknown_reference_falls_back_to_the_subject(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, api, "ana@example.com", "Budget", Message_ID="<b1@ex.com>")
    reply = deliver(
        server,
        api,
        "ana@example.com",
        "Re: Budget",
        In_Reply_To="<never-seen@ex.com>",
        References="<never-seen@ex.com>",
    )
    assert reply["thread_id"] == first["thread_id"]
    assert reply["thread_match"] == "subject"


@pytest.mark.parametrize("prefix", ["Re: ", "RE: ", "AW: ", "Fwd: ", "FW: ", "Re: Fwd: "])
def test_a_prefixed_subject_from_the_same_correspondent_joins_by_subject(
    server: LiveServer, api: httpx2.Client, prefix: str
) -> None:
    first = deliver(server, api, "Ana <ana@example.com>", "Server migration")
    follow_up = deliver(server, api, "Ana Lopez <ANA@example.com>", prefix + "Server migration")
    assert follow_up["thread_id"] == first["thread_id"]
    assert follow_up["thread_match"] == "subject"
    assert thread(api, first["thread_id"])["message_count"] == 2


def test_the_same_subject_from_an_unrelated_sender_starts_a_new_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, api, "ana@example.com", "Hello")
    stranger = deliver(server, api, "zed@elsewhere.org", "Re: Hello")
    assert stranger["thread_id"] != first["thread_id"]
    assert stranger["thread_match"] == "new"
    assert thread(api, first["thread_id"])["message_count"] == 1
    assert thread(api, stranger["thread_id"])["participants"] == ["zed@elsewhere.org"]


def test_a_different_subject_from_the_same_sender_starts_a_new_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, api, "ana@example.com", "Server migration")
    other = deliver(server, api, "ana@example.com", "Re: Office party")
    assert other["thread_id"] != first["thread_id"]
    assert other["thread_match"] == "new"


def test_a_back_and_forth_of_three_messages_is_one_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    ana = deliver(server, api, "Ana <ana@example.com>", "Contract draft", Message_ID="<c1@ex.com>")
    bob = deliver(
        server,
        api,
        "Bob <bob@example.org>",
        "Re: Contract draft",
        Message_ID="<c2@ex.org>",
        In_Reply_To="<c1@ex.com>",
        References="<c1@ex.com>",
    )
    again = deliver(
        server,
        api,
        "Ana <ana@example.com>",
        "Re: Re: Contract draft",
        Message_ID="<c3@ex.com>",
        In_Reply_To="<c2@ex.org>",
        References="<c1@ex.com> <c2@ex.org>",
    )
    assert [m["thread_match"] for m in (ana, bob, again)] == ["new", "references", "references"]
    assert ana["thread_id"] == bob["thread_id"] == again["thread_id"]
    conversation = thread(api, ana["thread_id"])
    assert conversation["message_count"] == 3
    assert conversation["subject"] == "Contract draft"
    assert conversation["participants"] == ["ana@example.com", "bob@example.org"]
    assert [m["id"] for m in conversation["messages"]] == [ana["id"], bob["id"], again["id"]]
    listed = api.get(f"/v1/mailboxes/{BOT}/threads").json()["data"]
    assert [(t["id"], t["message_count"]) for t in listed] == [(ana["thread_id"], 3)]


def test_threads_are_per_mailbox(server: LiveServer, api: httpx2.Client) -> None:
    """The same conversation copied to two mailboxes is two threads, one in each."""
    assert api.post("/v1/identities", json={"handle": "other"}).status_code == 201
    first = deliver(server, api, "ana@example.com", "Shared", Message_ID="<s1@ex.com>")
    raw = (
        b"From: ana@example.com\r\nTo: other@agents.localhost\r\nSubject: Re: Shared\r\n"
        b"In-Reply-To: <s1@ex.com>\r\nReferences: <s1@ex.com>\r\n\r\nHello\r\n"
    )
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.sendmail("ana@example.com", ["other@agents.localhost"], raw)
    [theirs] = api.get("/v1/mailboxes/other@agents.localhost/messages").json()["data"]
    assert theirs["thread_id"] != first["thread_id"]
    assert theirs["thread_match"] == "new"
