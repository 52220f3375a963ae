"""/v1/mailboxes/{address}/search?q=: full-text search over one mailbox, best match first."""

from __future__ import annotations

import hashlib
import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.support.live import LiveServer, start_server

BOT = "bot@agents.localhost"
SEARCH = f"/v1/mailboxes/{BOT}/search"


@pytest.fixture
def api(server: LiveServer) -> Iterator[httpx2.Client]:
    """A root client with the identity `bot` (bot@agents.localhost) created."""
    with server.client() as client:
        assert client.post("/v1/identities", json={"handle": "bot"}).status_code == 201
        yield client


def deliver(
    server: LiveServer,
    subject: str,
    body: str,
    *,
    sender: str = "ana@example.com",
    to: str = BOT,
    attachment: str | None = None,
) -> str:
    """Send one message over SMTP; return the id the server stored it under."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            b"%PDF-1.4\n", maintype="application", subtype="pdf", filename=attachment
        )
    with smtplib.SMTP(*server.smtp_address) as smtp:
        smtp.ehlo()
        smtp.mail(message["From"].addresses[0].addr_spec)
        assert smtp.rcpt(to)[0] == 250
        code, reply = smtp.data(message.as_bytes(policy=SMTP))
    assert code == 250, reply
    time.sleep(0.002)
    return reply.decode().split()[2]


def search(api: httpx2.Client, q: str, address: str = BOT, **params: Any) -> dict[str, Any]:
    answer = api.get(f"/v1/mailboxes/{address}/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def found_ids(api: httpx2.Client, q: str, address: str = BOT) -> list[str]:
    return [hit["id"] for hit in search(api, q, address)["data"]]


@pytest.fixture
def mail(server: LiveServer, api: httpx2.Client) -> dict[str, str]:
    """A small mailbox: three messages about different things, from different people."""
    return {
        "invoice": deliver(
            server,
            "Invoice for October",
            "Please find the amount due for the consulting work.",
            sender="Billing Team <billing@acme.example>",
            attachment="acme-statement.pdf",
        ),
        "lunch": deliver(
            server,
            "Lunch on Friday",
            "Shall we try the new ramen place near the station?",
            sender="Bob <bob@example.org>",
        ),
        "deploy": deliver(
            server,
            "Deploy notes",
            "The invoice service was restarted after the deploy at noon.",
            sender="ops@example.net",
        ),
    }


def test_finds_a_word_of_the_subject(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "october") == [mail["invoice"]]


def test_finds_a_word_of_the_body(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "ramen") == [mail["lunch"]]


def test_finds_the_sender_by_address(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "bob@example.org") == [mail["lunch"]]
    assert found_ids(api, "billing@acme.example") == [mail["invoice"]]


def test_finds_the_sender_by_name(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "Billing Team") == [mail["invoice"]]


def test_finds_an_attachment_by_filename(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "acme-statement.pdf") == [mail["invoice"]]
    assert found_ids(api, "statement") == [mail["invoice"]]


def test_a_subject_hit_ranks_above_a_body_only_hit(
    api: httpx2.Client, mail: dict[str, str]
) -> None:
    hits = search(api, "invoice")["data"]
    assert [hit["id"] for hit in hits] == [mail["invoice"], mail["deploy"]]
    assert hits[0]["rank"] > hits[1]["rank"]


def test_the_snippet_marks_the_term(api: httpx2.Client, mail: dict[str, str]) -> None:
    [hit] = search(api, "ramen")["data"]
    assert "[ramen]" in hit["snippet"].lower()
    assert hit["subject"] == "Lunch on Friday"
    assert hit["from"] == {"name": "Bob", "address": "bob@example.org"}
    assert "body_text" not in hit


def test_every_term_must_match(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "invoice deploy") == [mail["deploy"]]
    assert found_ids(api, "invoice ramen") == []


def test_words_match_by_prefix_and_in_any_case(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert found_ids(api, "RAM") == [mail["lunch"]]
    assert found_ids(api, "Consult") == [mail["invoice"]]


def test_a_one_character_term_matches_only_that_word(
    server: LiveServer, api: httpx2.Client, mail: dict[str, str]
) -> None:
    """As a prefix, `a` would match most of the mailbox (amount, after, at...)."""
    assert found_ids(api, "a") == []
    plan_b = deliver(server, "Plan B", "If the venue falls through, we go with plan b.")
    assert found_ids(api, "b") == [plan_b]
    assert found_ids(api, "plan b") == [plan_b]


@pytest.mark.parametrize(
    "q",
    [
        '"unterminated',
        '"ramen"',
        "(ramen",
        "ramen)",
        "ramen AND",
        "OR ramen",
        "NOT",
        "ramen NEAR station",
        "NEAR(ramen station)",
        "*",
        "ramen*",
        "-ramen",
        "ramen -station",
        "subject:ramen",
        "ramen^2",
        "a & b | !c",
        "'quote'",
        "\\",
        "_",
        "___",
        "ramen_",
        "é ü ß",
        "日本語",
        "!!!",
        "x" * 500,
        " ".join(["w"] * 100),
    ],
)
def test_query_syntax_never_breaks_search(api: httpx2.Client, mail: dict[str, str], q: str) -> None:
    """Anything a user types is searched for as words, never a 500."""
    answer = api.get(SEARCH, params={"q": q})
    assert answer.status_code == 200, answer.text
    assert isinstance(answer.json()["data"], list)


@pytest.mark.parametrize("q", ['"ramen"', "(ramen)", "ramen*", "-ramen", "ramen."])
def test_syntax_around_a_word_still_finds_it(
    api: httpx2.Client, mail: dict[str, str], q: str
) -> None:
    assert found_ids(api, q) == [mail["lunch"]]


@pytest.fixture
def windowed(database_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, httpx2.Client]]:
    """A server that ranks only the newest three matches of a search."""
    with (
        start_server(
            database_url=database_url, data_dir=tmp_path / "data", search_window=3
        ) as live,
        live.client() as client,
    ):
        assert client.post("/v1/identities", json={"handle": "bot"}).status_code == 201
        yield live, client


def test_only_the_newest_matches_are_ranked(windowed: tuple[LiveServer, httpx2.Client]) -> None:
    server, api = windowed
    # The oldest match has the term in its subject, so it would rank first if it were ranked.
    delivered = [deliver(server, "Quarterly report", "Numbers inside.")]
    delivered += [
        deliver(server, f"Note {n}", f"See the quarterly numbers, part {n}.") for n in range(4)
    ]
    newest = delivered[-3:]
    first = search(api, "quarterly", limit=2)
    second = search(api, "quarterly", limit=2, cursor=first["pagination"]["next_cursor"])
    assert first["pagination"]["has_more"] is True
    assert second["pagination"]["has_more"] is False
    assert sorted(hit["id"] for hit in first["data"] + second["data"]) == sorted(newest)
    # Adding a term narrows the matches, and the window reaches back to the old one.
    assert found_ids(api, "quarterly report") == [delivered[0]]


def test_results_stay_in_their_mailbox(
    server: LiveServer, api: httpx2.Client, mail: dict[str, str]
) -> None:
    assert api.post("/v1/identities", json={"handle": "other"}).status_code == 201
    other = "other@agents.localhost"
    theirs = deliver(server, "Ramen recipe", "Secret ramen broth.", to=other)
    assert found_ids(api, "ramen") == [mail["lunch"]]
    assert found_ids(api, "broth") == []
    assert found_ids(api, "ramen", other) == [theirs]


def test_the_mailbox_itself_is_not_a_search_term(api: httpx2.Client, mail: dict[str, str]) -> None:
    """The index files each entry under its mailbox; asking for that finds nothing."""
    mailbox_id = api.get(f"/v1/mailboxes/{BOT}").json()["id"]
    assert found_ids(api, mailbox_id) == []
    assert found_ids(api, mailbox_id.replace("_", "")) == []
    hits = search(api, "invoice")["data"]
    assert len(hits) == 2
    assert all(mailbox_id.replace("_", "") not in hit["snippet"] for hit in hits)


@pytest.mark.parametrize("params", [{}, {"q": ""}])
def test_a_missing_or_empty_query_is_422(api: httpx2.Client, params: dict[str, str]) -> None:
    answer = api.get(SEARCH, params=params)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["param"] == "q"


def test_search_in_an_unknown_mailbox_is_404(api: httpx2.Client) -> None:
    answer = api.get("/v1/mailboxes/nobody@agents.localhost/search", params={"q": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_no_hits_is_one_empty_page(api: httpx2.Client, mail: dict[str, str]) -> None:
    assert search(api, "zeppelin") == {
        "data": [],
        "pagination": {"has_more": False, "next_cursor": None},
    }


def test_results_page_with_limit_and_cursor(server: LiveServer, api: httpx2.Client) -> None:
    sent = {deliver(server, f"Report {n}", f"Weekly report number {n}.") for n in range(7)}
    deliver(server, "Unrelated", "Nothing to see.")
    seen: list[str] = []
    pages = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        body = search(api, "report", **params)
        pages.append(body)
        seen += [hit["id"] for hit in body["data"]]
        if not body["pagination"]["has_more"]:
            assert body["pagination"]["next_cursor"] is None
            break
        params = {"limit": 3, "cursor": body["pagination"]["next_cursor"]}
        assert len(pages) < 5, "pagination does not end"
    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    assert len(seen) == len(set(seen))
    assert set(seen) == sent


def test_a_search_cursor_only_works_for_its_query(server: LiveServer, api: httpx2.Client) -> None:
    for n in range(3):
        deliver(server, f"Report {n}", "Weekly report.")
    cursor = search(api, "report", limit=1)["pagination"]["next_cursor"]
    assert cursor
    answer = api.get(SEARCH, params={"q": "weekly", "limit": 1, "cursor": cursor})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "invalid_cursor"


def test_deleted_messages_are_not_found(api: httpx2.Client, mail: dict[str, str]) -> None:
    deleted = api.delete(f"/v1/mailboxes/{BOT}/messages/{mail['lunch']}")
    assert deleted.status_code == 200
    assert found_ids(api, "ramen") == []


def test_words_the_index_splits_are_found_whole_or_in_part(
    server: LiveServer, api: httpx2.Client
) -> None:
    hit = deliver(server, "Build log", "Failed at deploy_notes_v2, O'Neil retried it.")
    assert found_ids(api, "deploy_notes_v2") == [hit]
    assert found_ids(api, "notes_v") == [hit]
    assert found_ids(api, "O'Neil") == [hit]


def test_a_word_too_long_to_index_leaves_the_rest_searchable(
    server: LiveServer, api: httpx2.Client
) -> None:
    """PostgreSQL indexes words of up to 2,046 bytes, and its index adds a mailbox tag to
    each; a word at that bound still lets the message in, and its other words are found."""
    hit = deliver(server, "Long token", f"{'x' * 2046} marmalade")
    assert found_ids(api, "marmalade") == [hit]


def test_a_body_with_more_distinct_words_than_postgresql_indexes_is_stored(
    server: LiveServer, api: httpx2.Client
) -> None:
    """A PostgreSQL text vector holds at most 1 MB of words; a body with more (a log full of
    hashes, say) is still accepted and found by its opening words."""
    hashes = " ".join(hashlib.sha256(str(n).encode()).hexdigest() for n in range(40_000))
    hit = deliver(server, "Build log", f"Checksums follow.\n{hashes}")
    assert found_ids(api, "checksums") == [hit]


def test_a_body_is_indexed_up_to_its_first_150000_characters(
    server: LiveServer, api: httpx2.Client
) -> None:
    filler = "lorem ipsum " * 12_500  # 150,000 characters
    hit = deliver(server, "Long report", f"opening {filler[: 150_000 - 8]} closing")
    assert found_ids(api, "opening") == [hit]
    assert found_ids(api, "closing") == []
    assert (
        api.get(f"/v1/mailboxes/{BOT}/messages/{hit}")
        .json()["body_text"]
        .rstrip()
        .endswith("closing")
    )
