"""/v1/mailboxes/{address}/threads: conversations, each with its messages oldest first."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer

BOT = "bot@agents.localhost"
THREADS = f"/v1/mailboxes/{BOT}/threads"
MESSAGES = f"/v1/mailboxes/{BOT}/messages"


def deliver(
    server: LiveServer,
    subject: str,
    body: str = "Hello",
    *,
    sender: str = "ana@example.com",
    to: str = BOT,
    headers: dict[str, str] | None = None,
) -> str:
    """Send one message over SMTP; return the id the server stored it under."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail(sender)
        assert smtp.rcpt(to)[0] == 250
        code, reply = smtp.data(message.as_bytes())
    assert code == 250, reply
    time.sleep(0.002)  # ids are millisecond-sortable: keep arrival order unambiguous
    return reply.decode().split()[2]


def error_of(answer: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    return error


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx2.Client]:
    """A root client with the identity `bot` (bot@agents.localhost) created."""
    with server.client() as client:
        assert client.post("/v1/identities", json={"handle": "bot"}).status_code == 201
        yield client


def thread_of(api: httpx2.Client, message_id: str) -> str:
    return str(api.get(f"{MESSAGES}/{message_id}").json()["thread_id"])


def test_threads_are_listed_with_their_counts(server: LiveServer, api: httpx2.Client) -> None:
    plans = deliver(server, "Weekend plans")
    deliver(server, "Re: Weekend plans")
    invoice = deliver(server, "Invoice 17", sender="billing@example.org")

    body = api.get(THREADS).json()
    assert body["pagination"] == {"has_more": False, "next_cursor": None}
    by_id = {t["id"]: t for t in body["data"]}
    assert set(by_id) == {thread_of(api, plans), thread_of(api, invoice)}
    weekend = by_id[thread_of(api, plans)]
    assert weekend["subject"] == "Weekend plans"
    assert weekend["message_count"] == 2
    assert weekend["participants"] == ["ana@example.com"]
    assert weekend["mailbox"] == BOT
    assert by_id[thread_of(api, invoice)]["message_count"] == 1
    assert "messages" not in weekend


def test_threads_page_with_limit_and_cursor(server: LiveServer, api: httpx2.Client) -> None:
    for n in range(5):
        deliver(server, f"Topic {n}", sender=f"person{n}@example.com")
    first = api.get(THREADS, params={"limit": 2}).json()
    assert first["pagination"]["has_more"] is True
    seen = [t["id"] for t in first["data"]]
    cursor = first["pagination"]["next_cursor"]
    while cursor:
        page = api.get(THREADS, params={"limit": 2, "cursor": cursor}).json()
        seen += [t["id"] for t in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        assert len(seen) <= 5
    assert len(seen) == len(set(seen)) == 5


def test_a_thread_holds_its_messages_oldest_first_with_bodies(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, "Lunch", "Lunch on Friday?", headers={"Message-ID": "<l1@example.com>"})
    second = deliver(
        server,
        "Re: Lunch",
        "Friday works.",
        sender="bob@example.com",
        headers={"Message-ID": "<l2@example.com>", "In-Reply-To": "<l1@example.com>"},
    )
    third = deliver(
        server,
        "Re: Lunch",
        "Great, noon then.",
        headers={
            "Message-ID": "<l3@example.com>",
            "In-Reply-To": "<l2@example.com>",
            "References": "<l1@example.com> <l2@example.com>",
        },
    )
    answer = api.get(f"{THREADS}/{thread_of(api, first)}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["ETag"].startswith('"')
    thread = answer.json()
    assert [m["id"] for m in thread["messages"]] == [first, second, third]
    assert thread["message_count"] == 3
    assert thread["participants"] == ["ana@example.com", "bob@example.com"]
    assert [m["body_text"].strip() for m in thread["messages"]] == [
        "Lunch on Friday?",
        "Friday works.",
        "Great, noon then.",
    ]
    assert thread["last_message_at"] == thread["messages"][-1]["created_at"]


def test_an_unknown_thread_is_404(api: httpx2.Client) -> None:
    answer = api.get(f"{THREADS}/thr_00000000000000000000000000")
    assert error_of(answer, 404, "not_found")["param"] == "thread_id"
    error_of(api.delete(f"{THREADS}/thr_00000000000000000000000000"), 404, "not_found")


def test_a_thread_of_another_mailbox_is_404_here(server: LiveServer, api: httpx2.Client) -> None:
    assert api.post("/v1/identities", json={"handle": "other"}).status_code == 201
    other = "other@agents.localhost"
    theirs = deliver(server, "Private", to=other)
    thread_id = api.get(f"/v1/mailboxes/{other}/messages/{theirs}").json()["thread_id"]
    error_of(api.get(f"{THREADS}/{thread_id}"), 404, "not_found")
    error_of(api.delete(f"{THREADS}/{thread_id}"), 404, "not_found")
    assert api.get(f"/v1/mailboxes/{other}/threads/{thread_id}").status_code == 200


def test_deleting_a_thread_deletes_its_messages(server: LiveServer, api: httpx2.Client) -> None:
    first = deliver(server, "Pineapple order", "We need 40 crates of pineapple.")
    reply = deliver(server, "Re: Pineapple order", "Make it 50 crates of pineapple.")
    kept = deliver(server, "Mango order", "Mango too, but not pineapple.", sender="x@example.org")
    thread_id = thread_of(api, first)
    assert thread_of(api, reply) == thread_id
    search = f"/v1/mailboxes/{BOT}/search"
    assert len(api.get(search, params={"q": "crates"}).json()["data"]) == 2

    answer = api.delete(f"{THREADS}/{thread_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == thread_id
    error_of(api.get(f"{THREADS}/{thread_id}"), 404, "not_found")
    for message_id in (first, reply):
        error_of(api.get(f"{MESSAGES}/{message_id}"), 404, "not_found")
    assert [m["id"] for m in api.get(MESSAGES).json()["data"]] == [kept]
    assert [t["id"] for t in api.get(THREADS).json()["data"]] == [thread_of(api, kept)]
    assert api.get(search, params={"q": "crates"}).json()["data"] == []
    assert [h["id"] for h in api.get(search, params={"q": "pineapple"}).json()["data"]] == [kept]


def test_deleting_a_thread_with_a_stale_etag_is_412(server: LiveServer, api: httpx2.Client) -> None:
    first = deliver(server, "Status")
    thread_id = thread_of(api, first)
    etag = api.get(f"{THREADS}/{thread_id}").headers["ETag"]
    deliver(server, "Re: Status")  # the thread changed since
    stale = api.delete(f"{THREADS}/{thread_id}", headers={"If-Match": etag})
    assert error_of(stale, 412, "precondition_failed")["param"] == "If-Match"
    assert api.get(f"{THREADS}/{thread_id}").json()["message_count"] == 2


def test_deleting_the_last_message_of_a_thread_removes_the_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    only = deliver(server, "Alone")
    thread_id = thread_of(api, only)
    assert api.delete(f"{MESSAGES}/{only}").status_code == 200
    error_of(api.get(f"{THREADS}/{thread_id}"), 404, "not_found")
    assert api.get(THREADS).json()["data"] == []
