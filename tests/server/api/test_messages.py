"""/v1/mailboxes/{address}/messages: reading received mail, filtering, flags, raw and attachments.

Mail goes in the way it does in production: over SMTP to the live listener.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import httpx2
import pytest
from sqlalchemy import event

from tests.support.live import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def create_identity(api: httpx2.Client, handle: str) -> str:
    answer = api.post("/v1/identities", json={"handle": handle})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["email_address"])


def deliver(server: LiveServer, to: str, mail: EmailMessage | bytes, sender: str = "") -> str:
    """Send `mail` over SMTP to `to`; return the id the server stored it under."""
    raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=SMTP)
    if not sender and isinstance(mail, EmailMessage):
        sender = mail["From"].addresses[0].addr_spec
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        assert smtp.mail(sender or "someone@example.com")[0] == 250
        assert smtp.rcpt(to)[0] == 250
        code, reply = smtp.data(raw)
    assert code == 250, reply
    [stored] = reply.decode().split()[2:]  # "2.0.0 OK msg_..."
    time.sleep(0.002)  # ids are millisecond-sortable: keep arrival order unambiguous
    return stored


def mail(
    subject: str = "Hello",
    body: str = "Hi there",
    sender: str = "Ana Example <ana@example.com>",
    to: str = "bot@agents.localhost",
) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    return message


def listed(api: httpx2.Client, address: str, **params: Any) -> list[str]:
    answer = api.get(f"/v1/mailboxes/{address}/messages", params=params)
    assert answer.status_code == 200, answer.text
    return [m["id"] for m in answer.json()["data"]]


def error_of(answer: httpx2.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    assert error["fix"].strip()
    return error


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx2.Client]:
    """A root client with the identity `bot` (bot@agents.localhost) created."""
    with server.client() as client:
        create_identity(client, "bot")
        yield client


BOT = "bot@agents.localhost"
MESSAGES = f"/v1/mailboxes/{BOT}/messages"


# Listing and reading


def test_the_list_is_newest_first_and_leaves_bodies_out(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, BOT, mail("First", "first body"))
    second = deliver(server, BOT, mail("Second", "second body"))
    body = api.get(MESSAGES).json()
    assert [m["id"] for m in body["data"]] == [second, first]
    assert body["pagination"] == {"has_more": False, "next_cursor": None}
    item = body["data"][0]
    assert item["subject"] == "Second"
    assert item["preview"] == "second body"
    assert item["from"] == {"name": "Ana Example", "address": "ana@example.com"}
    assert item["to"] == [{"name": "", "address": BOT}]
    assert item["direction"] == "inbound"
    assert item["status"] == "received"
    assert item["mailbox"] == BOT
    assert item["thread_id"].startswith("thr_")
    assert item["is_read"] is False
    assert item["is_starred"] is False
    assert item["labels"] == []
    for absent in ("body_text", "body_html", "extracted_text", "headers"):
        assert absent not in item


def test_a_message_carries_bodies_headers_and_the_reply_text(
    server: LiveServer, api: httpx2.Client
) -> None:
    message = mail("Lunch?", "")
    message["Message-ID"] = "<lunch-1@example.com>"
    message["X-Ticket"] = "T-42"
    message.set_content(
        "Sounds good, see you Friday.\n\n"
        "On Mon, 3 Mar 2025 at 10:00, Bob <bob@example.com> wrote:\n"
        "> Shall we have lunch on Friday?\n"
    )
    message.add_alternative("<p>Sounds good, see you <b>Friday</b>.</p>", subtype="html")
    stored = deliver(server, BOT, message)

    answer = api.get(f"{MESSAGES}/{stored}")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["id"] == stored
    assert got["rfc_message_id"] == "<lunch-1@example.com>"
    assert got["from"] == {"name": "Ana Example", "address": "ana@example.com"}
    assert "see you Friday" in got["body_text"]
    assert "Shall we have lunch" in got["body_text"]
    assert "<b>Friday</b>" in got["body_html"]
    assert got["extracted_text"] == "Sounds good, see you Friday."
    assert ["X-Ticket", "T-42"] in got["headers"]
    assert ["Subject", "Lunch?"] in got["headers"]
    assert got["size"] == len(message.as_bytes(policy=SMTP))
    assert answer.headers["ETag"].startswith('"')


def test_an_unknown_message_id_is_404(api: httpx2.Client) -> None:
    error = error_of(api.get(f"{MESSAGES}/msg_00000000000000000000000000"), 404, "not_found")
    assert error["param"] == "message_id"


def test_a_message_of_another_mailbox_is_404_through_this_one(
    server: LiveServer, api: httpx2.Client
) -> None:
    other = create_identity(api, "other")
    theirs = deliver(server, other, mail("Private", "for other only", to=other))
    for path in (f"{theirs}", f"{theirs}/raw"):
        error_of(api.get(f"{MESSAGES}/{path}"), 404, "not_found")
    error_of(api.patch(f"{MESSAGES}/{theirs}", json={"is_read": True}), 404, "not_found")
    error_of(api.delete(f"{MESSAGES}/{theirs}"), 404, "not_found")
    # Still there, untouched, in its own mailbox.
    own = api.get(f"/v1/mailboxes/{other}/messages/{theirs}")
    assert own.status_code == 200
    assert own.json()["is_read"] is False


def test_an_unknown_mailbox_is_404(api: httpx2.Client) -> None:
    error_of(api.get("/v1/mailboxes/nobody@agents.localhost/messages"), 404, "not_found")


def test_a_mailbox_lists_the_same_by_address_in_any_case_and_by_id(
    server: LiveServer, api: httpx2.Client
) -> None:
    stored = deliver(server, BOT, mail())
    mailbox_id = api.get(f"/v1/mailboxes/{BOT}").json()["id"]
    for name in (BOT, BOT.upper(), mailbox_id):
        page = api.get(f"/v1/mailboxes/{name}/messages").json()["data"]
        assert [(m["id"], m["mailbox"]) for m in page] == [(stored, BOT)], name


def test_an_empty_mailbox_lists_nothing(api: httpx2.Client) -> None:
    empty = create_identity(api, "quiet")
    answer = api.get(f"/v1/mailboxes/{empty}/messages")
    assert answer.status_code == 200
    assert answer.json() == {"data": [], "pagination": {"has_more": False, "next_cursor": None}}


# Filters


def test_direction_filter(server: LiveServer, api: httpx2.Client) -> None:
    received = deliver(server, BOT, mail())
    assert listed(api, BOT, direction="inbound") == [received]
    assert listed(api, BOT, direction="outbound") == []
    error = error_of(api.get(MESSAGES, params={"direction": "sideways"}), 422, "validation_error")
    assert error["param"] == "direction"


def test_unread_and_starred_filters_follow_the_flags(
    server: LiveServer, api: httpx2.Client
) -> None:
    read = deliver(server, BOT, mail("Read me"))
    starred = deliver(server, BOT, mail("Star me"))
    untouched = deliver(server, BOT, mail("Leave me"))
    assert api.patch(f"{MESSAGES}/{read}", json={"is_read": True}).status_code == 200
    assert api.patch(f"{MESSAGES}/{starred}", json={"is_starred": True}).status_code == 200

    assert listed(api, BOT, unread="true") == [untouched, starred]
    assert listed(api, BOT, unread="false") == [read]
    assert listed(api, BOT, starred="true") == [starred]
    assert listed(api, BOT, starred="false") == [untouched, read]
    assert listed(api, BOT, unread="true", starred="true") == [starred]


def test_label_filter_needs_every_label(server: LiveServer, api: httpx2.Client) -> None:
    both = deliver(server, BOT, mail("Both"))
    billing = deliver(server, BOT, mail("Billing only"))
    deliver(server, BOT, mail("None"))
    api.patch(f"{MESSAGES}/{both}", json={"labels": ["billing", "urgent"]})
    api.patch(f"{MESSAGES}/{billing}", json={"labels": ["billing"]})

    assert listed(api, BOT, label="billing") == [billing, both]
    assert listed(api, BOT, label="urgent") == [both]
    assert listed(api, BOT, label=["billing", "urgent"]) == [both]
    assert listed(api, BOT, label=["billing", "missing"]) == []
    assert listed(api, BOT, label="bill") == []  # whole labels, not parts


def test_label_filter_matches_labels_with_non_ascii_letters(
    server: LiveServer, api: httpx2.Client
) -> None:
    invoice = deliver(server, BOT, mail("Rechnung"))
    patched = api.patch(f"{MESSAGES}/{invoice}", json={"labels": ["überfällig"]})
    assert patched.json()["labels"] == ["überfällig"]
    assert listed(api, BOT, label="überfällig") == [invoice]


def test_label_filter_takes_underscore_and_percent_literally(
    server: LiveServer, api: httpx2.Client
) -> None:
    """`needs_reply` is a label name, not a pattern that also matches `needs-reply`."""
    dashed = deliver(server, BOT, mail("Dashed"))
    underscored = deliver(server, BOT, mail("Underscored"))
    api.patch(f"{MESSAGES}/{dashed}", json={"labels": ["needs-reply", "100x"]})
    api.patch(f"{MESSAGES}/{underscored}", json={"labels": ["needs_reply"]})
    assert listed(api, BOT, label="needs_reply") == [underscored]
    assert listed(api, BOT, label="100%") == []


def test_thread_id_filter(server: LiveServer, api: httpx2.Client) -> None:
    first = deliver(server, BOT, mail("Invoice 17"))
    other = deliver(server, BOT, mail("Something else"))
    reply = deliver(server, BOT, mail("Re: Invoice 17"))
    thread_id = api.get(f"{MESSAGES}/{first}").json()["thread_id"]
    assert api.get(f"{MESSAGES}/{other}").json()["thread_id"] != thread_id
    assert listed(api, BOT, thread_id=thread_id) == [reply, first]
    assert listed(api, BOT, thread_id="thr_00000000000000000000000000") == []


def test_from_filter_matches_the_sender_address_in_any_case(
    server: LiveServer, api: httpx2.Client
) -> None:
    from_ana = deliver(server, BOT, mail(sender="Ana <Ana.Lopez@Example.com>"))
    deliver(server, BOT, mail(sender="Bob <bob@example.com>"))
    assert listed(api, BOT, **{"from": "ana.lopez@example.com"}) == [from_ana]
    assert listed(api, BOT, **{"from": "ANA.LOPEZ@EXAMPLE.COM"}) == [from_ana]
    assert listed(api, BOT, **{"from": "ana"}) == []  # a whole address, not a part of one
    assert listed(api, BOT, **{"from": "nobody@example.com"}) == []


def test_before_and_after_bound_the_arrival_time(server: LiveServer, api: httpx2.Client) -> None:
    ids = [deliver(server, BOT, mail(f"Number {n}")) for n in range(3)]
    times = [datetime.fromisoformat(api.get(f"{MESSAGES}/{i}").json()["created_at"]) for i in ids]
    assert times[0] < times[1] < times[2]
    middle = times[1]

    assert listed(api, BOT, after=middle.isoformat()) == [ids[2]]
    assert listed(api, BOT, before=middle.isoformat()) == [ids[0]]
    assert listed(api, BOT, after=times[0].isoformat(), before=times[2].isoformat()) == [ids[1]]
    # The same instant written in another offset means the same thing.
    elsewhere = middle.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert listed(api, BOT, after=elsewhere) == [ids[2]]
    zulu = middle.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert listed(api, BOT, before=zulu) == [ids[0]]


@pytest.mark.parametrize("name", ["before", "after"])
def test_a_timestamp_without_offset_is_never_a_500(
    server: LiveServer, api: httpx2.Client, name: str
) -> None:
    """Either read as UTC or refused with a 422 naming the parameter, but never a crash."""
    deliver(server, BOT, mail())
    answer = api.get(MESSAGES, params={name: "2000-01-01T00:00:00"})
    if answer.status_code == 422:
        assert answer.json()["error"]["param"] == name
    else:
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["data"]) == (1 if name == "after" else 0)


def test_a_malformed_timestamp_is_422(api: httpx2.Client) -> None:
    error = error_of(api.get(MESSAGES, params={"after": "yesterday"}), 422, "validation_error")
    assert error["param"] == "after"


# Pagination


def test_pages_walk_a_filtered_list_once_each(server: LiveServer, api: httpx2.Client) -> None:
    ids = [deliver(server, BOT, mail(f"Number {n}")) for n in range(7)]
    starred = ids[::2]  # 0, 2, 4, 6
    for message_id in starred:
        api.patch(f"{MESSAGES}/{message_id}", json={"is_starred": True})

    seen: list[str] = []
    params: dict[str, Any] = {"starred": "true", "limit": 3}
    pages = 0
    while True:
        body = api.get(MESSAGES, params=params).json()
        pages += 1
        seen += [m["id"] for m in body["data"]]
        if not body["pagination"]["has_more"]:
            assert body["pagination"]["next_cursor"] is None
            break
        params = {**params, "cursor": body["pagination"]["next_cursor"]}
        assert pages < 5, "pagination does not end"
    assert pages == 2
    assert seen == list(reversed(starred))


def test_a_cursor_with_other_filters_is_refused(server: LiveServer, api: httpx2.Client) -> None:
    for n in range(3):
        deliver(server, BOT, mail(f"Number {n}"))
    cursor = api.get(MESSAGES, params={"unread": "true", "limit": 1}).json()["pagination"][
        "next_cursor"
    ]
    assert cursor
    same = api.get(MESSAGES, params={"unread": "true", "limit": 1, "cursor": cursor})
    assert same.status_code == 200
    changed = api.get(MESSAGES, params={"starred": "true", "limit": 1, "cursor": cursor})
    dropped = api.get(MESSAGES, params={"limit": 1, "cursor": cursor})
    for answer in (changed, dropped):
        assert error_of(answer, 400, "invalid_cursor")["param"] == "cursor"


# Flags and labels


def test_patch_sets_flags_and_labels_deduplicated_and_sorted(
    server: LiveServer, api: httpx2.Client
) -> None:
    stored = deliver(server, BOT, mail())
    answer = api.patch(
        f"{MESSAGES}/{stored}",
        json={"is_read": True, "is_starred": True, "labels": ["work", "Alpha", "work", "b"]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["labels"] == ["Alpha", "b", "work"]
    again = api.get(f"{MESSAGES}/{stored}").json()
    assert (again["is_read"], again["is_starred"], again["labels"]) == (
        True,
        True,
        ["Alpha", "b", "work"],
    )
    # Fields left out keep their value.
    api.patch(f"{MESSAGES}/{stored}", json={"is_read": False})
    again = api.get(f"{MESSAGES}/{stored}").json()
    assert (again["is_read"], again["is_starred"], again["labels"]) == (
        False,
        True,
        ["Alpha", "b", "work"],
    )
    cleared = api.patch(f"{MESSAGES}/{stored}", json={"labels": []})
    assert cleared.json()["labels"] == []


@pytest.mark.parametrize("field", ["is_read", "is_starred", "labels"])
def test_patch_with_null_is_refused_naming_the_field(
    server: LiveServer, api: httpx2.Client, field: str
) -> None:
    stored = deliver(server, BOT, mail())
    api.patch(f"{MESSAGES}/{stored}", json={"labels": ["keep"]})
    error = error_of(api.patch(f"{MESSAGES}/{stored}", json={field: None}), 422, "validation_error")
    assert error["param"] == field
    assert api.get(f"{MESSAGES}/{stored}").json()["labels"] == ["keep"]


@pytest.mark.parametrize("label", ['say "hi"', "tab\there", "line\nbreak", "nul\x00", ""])
def test_a_label_with_a_quote_or_control_character_is_refused(
    server: LiveServer, api: httpx2.Client, label: str
) -> None:
    stored = deliver(server, BOT, mail())
    answer = api.patch(f"{MESSAGES}/{stored}", json={"labels": ["fine", label]})
    error = error_of(answer, 422, "validation_error")
    assert error["param"].startswith("labels")
    assert api.get(f"{MESSAGES}/{stored}").json()["labels"] == []


def test_patch_with_a_stale_etag_is_412(server: LiveServer, api: httpx2.Client) -> None:
    stored = deliver(server, BOT, mail())
    etag = api.get(f"{MESSAGES}/{stored}").headers["ETag"]
    first = api.patch(f"{MESSAGES}/{stored}", json={"is_read": True}, headers={"If-Match": etag})
    assert first.status_code == 200, first.text
    stale = api.patch(f"{MESSAGES}/{stored}", json={"labels": ["late"]}, headers={"If-Match": etag})
    error = error_of(stale, 412, "precondition_failed")
    assert error["param"] == "If-Match"
    assert api.get(f"{MESSAGES}/{stored}").json()["labels"] == []
    fresh = api.get(f"{MESSAGES}/{stored}").headers["ETag"]
    assert fresh != etag
    ok = api.patch(f"{MESSAGES}/{stored}", json={"labels": ["late"]}, headers={"If-Match": fresh})
    assert ok.status_code == 200
    assert ok.json()["labels"] == ["late"]


# Delete


def test_delete_removes_the_message_and_counts_it_out_of_its_thread(
    server: LiveServer, api: httpx2.Client
) -> None:
    first = deliver(server, BOT, mail("Plans"))
    reply = deliver(server, BOT, mail("Re: Plans"))
    thread_id = api.get(f"{MESSAGES}/{first}").json()["thread_id"]
    threads = f"/v1/mailboxes/{BOT}/threads"
    assert api.get(f"{threads}/{thread_id}").json()["message_count"] == 2

    answer = api.delete(f"{MESSAGES}/{reply}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == reply
    error_of(api.get(f"{MESSAGES}/{reply}"), 404, "not_found")
    assert listed(api, BOT) == [first]
    thread = api.get(f"{threads}/{thread_id}").json()
    assert thread["message_count"] == 1
    assert [m["id"] for m in thread["messages"]] == [first]
    error_of(api.delete(f"{MESSAGES}/{reply}"), 404, "not_found")


def test_delete_with_a_stale_etag_is_412(server: LiveServer, api: httpx2.Client) -> None:
    stored = deliver(server, BOT, mail())
    etag = api.get(f"{MESSAGES}/{stored}").headers["ETag"]
    api.patch(f"{MESSAGES}/{stored}", json={"is_starred": True})
    error_of(
        api.delete(f"{MESSAGES}/{stored}", headers={"If-Match": etag}), 412, "precondition_failed"
    )
    assert api.get(f"{MESSAGES}/{stored}").status_code == 200


# Raw and attachments


def test_raw_returns_the_exact_bytes_received(server: LiveServer, api: httpx2.Client) -> None:
    raw = (
        b"From: Ana <ana@example.com>\r\n"
        b"To: bot@agents.localhost\r\n"
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
        b"Message-ID: <raw-1@example.com>\r\n"
        b"X-Odd:   spacing\tkept  \r\n"
        b"\r\n"
        b"Line one\r\n"
        b".a line that starts with a dot\r\n"
        b"..two dots\r\n"
        b"last line\r\n"
    )
    stored = deliver(server, BOT, raw, sender="ana@example.com")
    answer = api.get(f"{MESSAGES}/{stored}/raw")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "message/rfc822"
    assert answer.content == raw
    assert int(answer.headers["content-length"]) == len(raw)
    assert api.get(f"{MESSAGES}/{stored}").json()["subject"] == "Grüße"


def with_attachments() -> EmailMessage:
    message = mail("Report", "See attached.")
    message.add_alternative('<p>See attached.<img src="cid:logo@example.com"></p>', subtype="html")
    html = message.get_payload()[1]
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo@example.com>")
    message.add_attachment(
        b"%PDF-1.4\n" + bytes(range(256)) * 8,
        maintype="application",
        subtype="pdf",
        filename="report.pdf",
    )
    message.add_attachment(
        "naïve,résumé\n1,2\n".encode(),
        maintype="text",
        subtype="csv",
        filename="Übersicht März.csv",
    )
    return message


def test_lists_and_search_show_each_messages_attachments(
    server: LiveServer, api: httpx2.Client
) -> None:
    """Summaries carry the attachments the full message shows, in the same order."""
    with_files = deliver(server, BOT, with_attachments())
    plain = deliver(server, BOT, mail("Nothing attached", "See attached? No."))
    full = api.get(f"{MESSAGES}/{with_files}").json()["attachments"]
    assert len(full) == 3
    listed = {m["id"]: m["attachments"] for m in api.get(MESSAGES).json()["data"]}
    assert listed == {with_files: full, plain: []}
    hits = api.get(f"/v1/mailboxes/{BOT}/search", params={"q": "attached"}).json()["data"]
    assert {h["id"]: h["attachments"] for h in hits} == {with_files: full, plain: []}


def test_a_page_of_a_mailbox_is_one_statement(server: LiveServer, api: httpx2.Client) -> None:
    """The mailbox, its messages and their attachments: each a round trip on PostgreSQL."""
    deliver(server, BOT, with_attachments())
    deliver(server, BOT, mail("Nothing attached", "Plain."))
    reading: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if any(f"FROM {table}" in sql for table in ("mailboxes", "messages", "attachments")):
            reading.append(sql)

    engine = server.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        listed = api.get(MESSAGES).json()["data"]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert sorted(len(m["attachments"]) for m in listed) == [0, 3]
    assert {m["mailbox"] for m in listed} == {BOT}
    assert len(reading) == 1


def test_attachments_download_byte_for_byte(server: LiveServer, api: httpx2.Client) -> None:
    stored = deliver(server, BOT, with_attachments())
    got = api.get(f"{MESSAGES}/{stored}").json()
    by_name = {a["filename"]: a for a in got["attachments"]}
    assert set(by_name) >= {"report.pdf", "Übersicht März.csv"}

    pdf = by_name["report.pdf"]
    assert pdf["content_type"] == "application/pdf"
    assert pdf["id"].startswith("att_")
    assert pdf["inline"] is False
    download = api.get(f"{MESSAGES}/{stored}/attachments/{pdf['id']}")
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4\n" + bytes(range(256)) * 8
    assert pdf["size"] == len(download.content)
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert 'filename="report.pdf"' in disposition


def test_a_non_ascii_filename_is_offered_with_rfc_5987(
    server: LiveServer, api: httpx2.Client
) -> None:
    stored = deliver(server, BOT, with_attachments())
    got = api.get(f"{MESSAGES}/{stored}").json()
    [csv] = [a for a in got["attachments"] if a["filename"] == "Übersicht März.csv"]
    download = api.get(f"{MESSAGES}/{stored}/attachments/{csv['id']}")
    assert download.status_code == 200
    assert download.content == "naïve,résumé\n1,2\n".encode()
    assert download.headers["content-type"].startswith("text/csv")
    disposition = download.headers["content-disposition"]
    assert "filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.csv" in disposition
    disposition.encode("ascii")  # the header itself stays ASCII


def test_an_inline_image_keeps_its_content_id(server: LiveServer, api: httpx2.Client) -> None:
    stored = deliver(server, BOT, with_attachments())
    got = api.get(f"{MESSAGES}/{stored}").json()
    [logo] = [a for a in got["attachments"] if a["content_type"] == "image/png"]
    assert logo["inline"] is True
    assert logo["content_id"] == "logo@example.com"
    assert "cid:logo@example.com" in got["body_html"]
    download = api.get(f"{MESSAGES}/{stored}/attachments/{logo['id']}")
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"


def test_an_unknown_attachment_is_404(server: LiveServer, api: httpx2.Client) -> None:
    stored = deliver(server, BOT, with_attachments())
    other = deliver(server, BOT, with_attachments())
    foreign = api.get(f"{MESSAGES}/{other}").json()["attachments"][0]["id"]
    for attachment_id in ("att_00000000000000000000000000", foreign):
        answer = api.get(f"{MESSAGES}/{stored}/attachments/{attachment_id}")
        error_of(answer, 404, "not_found")


# Agent keys


def test_an_agent_key_reads_its_own_mailbox_only(server: LiveServer, api: httpx2.Client) -> None:
    other = create_identity(api, "other")
    own = deliver(server, BOT, mail("For bot", "bot words"))
    theirs = deliver(server, other, mail("For other", "other words", to=other))
    created = api.post("/v1/api-keys", json={"name": "bot", "kind": "agent", "identity_id": "bot"})
    assert created.status_code == 201, created.text

    with server.client(created.json()["key"]) as agent:
        assert listed(agent, BOT) == [own]
        message = agent.get(f"{MESSAGES}/{own}")
        assert message.status_code == 200
        thread_id = message.json()["thread_id"]
        assert agent.get(f"{MESSAGES}/{own}/raw").status_code == 200
        assert agent.get(f"/v1/mailboxes/{BOT}/threads/{thread_id}").status_code == 200
        assert agent.patch(f"{MESSAGES}/{own}", json={"is_read": True}).status_code == 200
        found = agent.get(f"/v1/mailboxes/{BOT}/search", params={"q": "bot"}).json()["data"]
        assert [hit["id"] for hit in found] == [own]

        other_messages = f"/v1/mailboxes/{other}/messages"
        other_thread = api.get(f"{other_messages}/{theirs}").json()["thread_id"]
        for answer in (
            agent.get(other_messages),
            agent.get(f"{other_messages}/{theirs}"),
            agent.get(f"{other_messages}/{theirs}/raw"),
            agent.patch(f"{other_messages}/{theirs}", json={"is_read": True}),
            agent.delete(f"{other_messages}/{theirs}"),
            agent.get(f"/v1/mailboxes/{other}/threads"),
            agent.get(f"/v1/mailboxes/{other}/threads/{other_thread}"),
            agent.delete(f"/v1/mailboxes/{other}/threads/{other_thread}"),
            agent.get(f"/v1/mailboxes/{other}/search", params={"q": "other"}),
            agent.get(f"{MESSAGES}/{theirs}"),
            agent.get(f"/v1/mailboxes/{BOT}/threads/{other_thread}"),
        ):
            error_of(answer, 404, "not_found")
    still = api.get(f"{other_messages}/{theirs}").json()
    assert still["is_read"] is False
