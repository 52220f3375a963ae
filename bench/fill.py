"""Filling a migrated store with many messages quickly, for the API benchmark.

Identities and mailboxes are made through the API by a real `tidings serve` (so they are
exactly what the server makes); then threads, messages and their search entries (FTS5 rows
on SQLite, the weighted tsvector on PostgreSQL) are bulk-inserted straight into the schema
with SQLAlchemy Core, in large batches, instead of a million API calls. Every message points
at one real raw blob, so `GET .../raw` works too.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import server as tidings_server
from tidings_server import ids
from tidings_server.blobs.files import FileBlobStore
from tidings_server.store.engine import create_sync_engine, is_sqlite
from tidings_server.store.models import Message, Thread
from tidings_server.store.repositories.search import mailbox_token

MAILBOXES = 20
PER_THREAD = 10
BATCH = 5_000
# A vocabulary with a long tail, so search terms range from common to rare, as in real mail.
WORDS = [f"{stem}{n}" for n in range(250) for stem in ("alpha", "delta", "omega", "sigma")]
SAMPLE_RAW = (
    b"From: Sender <sender@example.org>\r\nTo: bench@agents.localhost\r\nSubject: sample\r\n"
    b"Message-ID: <sample@example.org>\r\nDate: Tue, 01 Dec 2026 05:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA stored message.\r\n"
)


def _text(rng: random.Random, words: int) -> str:
    # Zipf-like: low indexes are far more common than high ones.
    return " ".join(
        WORDS[min(len(WORDS) - 1, int(rng.paretovariate(1.1)) - 1)] for _ in range(words)
    )


def create_mailboxes(workdir: Path, url: str) -> list[dict[str, str]]:
    """Identities (and their mailboxes) made by the server itself; returns id, mailbox, address."""
    with tidings_server.serving(workdir, url) as served, served.client() as api:
        for n in range(MAILBOXES):
            api.post("/v1/identities", json={"handle": f"bench{n:02d}"}).raise_for_status()
        found = api.get("/v1/identities", params={"limit": 100}).json()["data"]
        return [
            {"identity_id": i["id"], "mailbox_id": i["mailbox_id"], "address": i["email_address"]}
            for i in found
        ]


def _rows(
    org_id: str, boxes: list[dict[str, str]], count: int, raw_key: str, seed: int
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    threads: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    current: dict[str, dict[str, Any]] = {}  # the open thread of each mailbox
    for n in range(count):
        box = boxes[n % len(boxes)]
        at = start + step * n
        thread = current.get(box["mailbox_id"], {})
        if thread.get("message_count", PER_THREAD) >= PER_THREAD:
            subject = _text(rng, 5)
            thread = {
                "id": ids.new_id("thr", now_ms=int(at.timestamp() * 1000)),
                "org_id": org_id, "identity_id": box["identity_id"],
                "mailbox_id": box["mailbox_id"], "subject": subject,
                "subject_key": subject.casefold()[:255],
                "participants": [f"person{n % 997}@example.org"], "message_count": 0,
                "last_message_at": at, "created_at": at, "updated_at": at,
            }  # fmt: skip
            current[box["mailbox_id"]] = thread
            threads.append(thread)
        thread["message_count"] += 1
        thread["last_message_at"] = at
        body = _text(rng, 60)
        sender = {"name": f"Person {n % 997}", "address": f"person{n % 997}@example.org"}
        messages.append(
            {
                "id": ids.new_id("msg", now_ms=int(at.timestamp() * 1000)),
                "org_id": org_id, "identity_id": box["identity_id"],
                "mailbox_id": box["mailbox_id"], "thread_id": thread["id"],
                "thread_match": "subject", "direction": "inbound", "status": "received",
                "rfc_message_id": f"<m{n}@example.org>", "in_reply_to": None,
                "references": [], "from": [sender], "to": [{"name": "", "address": box["address"]}],
                "cc": [], "bcc": [], "reply_to": [], "envelope_from": sender["address"],
                "idempotency_key": None, "correlation_id": None,
                "subject": thread["subject"], "preview": body[:200], "body_text": body,
                "body_html": None, "extracted_text": body,
                "headers": [["Subject", thread["subject"]]],
                "labels": [], "label_index": "|", "from_address": sender["address"],
                "is_read": n % 3 == 0, "is_starred": n % 17 == 0, "parse_warnings": [],
                "size": len(body) + 400, "raw_blob": raw_key, "sent_at": at,
                "created_at": at, "updated_at": at,
            }
        )  # fmt: skip
        if len(messages) >= BATCH:
            yield threads, messages
            threads, messages = [], []
    if messages:
        yield threads, messages


def _drop_search_indexes(connection: sa.Connection) -> list[str]:
    """Drops the PostgreSQL indexes over `messages.search_vector`; returns their definitions."""
    indexes = connection.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = 'messages' AND indexdef LIKE '%search_vector%'"
        )
    ).all()
    for name, _ in indexes:
        connection.execute(sa.text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in indexes]


def fill(workdir: Path, url: str, count: int, seed: int = 7) -> dict[str, Any]:
    """Put `count` messages into a fresh store at `url`; returns what the benchmark needs."""
    started = time.perf_counter()
    boxes = create_mailboxes(workdir, url)
    raw_key = asyncio.run(FileBlobStore(workdir / "blobs").put(SAMPLE_RAW))
    engine = create_sync_engine(url)
    sqlite = is_sqlite(url)
    messages_table = Message.__table__
    threads_table = Thread.__table__
    thread_upsert: dict[str, dict[str, Any]] = {}
    search_indexes: list[str] = []
    with engine.begin() as connection:
        org_id = connection.scalar(sa.text("SELECT id FROM organisations LIMIT 1"))
        if not sqlite:
            # Building the search indexes once at the end is far faster than keeping them up to
            # date; they are rebuilt as the migrations made them.
            search_indexes = _drop_search_indexes(connection)
    sample_ids: dict[str, list[str]] = {b["address"]: [] for b in boxes}
    for threads, messages in _rows(org_id, boxes, count, raw_key, seed):
        for thread in threads:
            thread_upsert[thread["id"]] = thread
        with engine.begin() as connection:
            if threads:
                # Counts are set once all messages are in (a thread may span batches).
                connection.execute(sa.insert(threads_table), threads)
            connection.execute(sa.insert(messages_table), messages)
            if sqlite:
                connection.execute(
                    sa.text(
                        "INSERT INTO message_search (message_id, subject, addresses, body, "
                        "attachment_names, mailbox) VALUES (:id, :subject, :addresses, "
                        ":body_text, '', :mailbox)"
                    ),
                    [
                        {
                            **m,
                            "addresses": f"{m['from'][0]['name']} {m['from'][0]['address']}",
                            "mailbox": mailbox_token(m["mailbox_id"]),
                        }
                        for m in messages
                    ],
                )
        for message in messages[:: max(1, len(messages) // 50)]:
            address = next(b["address"] for b in boxes if b["mailbox_id"] == message["mailbox_id"])
            sample_ids[address].append(message["id"])
    with engine.begin() as connection:
        # Thread counters as the last message left them.
        connection.execute(
            sa.update(threads_table)
            .where(threads_table.c.id == sa.bindparam("tid"))
            .values(message_count=sa.bindparam("mc"), last_message_at=sa.bindparam("lm")),
            [
                {"tid": t["id"], "mc": t["message_count"], "lm": t["last_message_at"]}
                for t in thread_upsert.values()
            ],
        )
        if not sqlite:
            connection.execute(
                sa.text(
                    "UPDATE messages SET search_vector = tidings_search_words("
                    "setweight(to_tsvector('simple', subject), 'A') || "
                    "setweight(to_tsvector('simple', \"from\"::text), 'B') || "
                    "setweight(to_tsvector('simple', coalesce(body_text, '')), 'C'), mailbox_id)"
                )
            )
            for definition in search_indexes:
                connection.execute(sa.text(definition))
    if sqlite:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        # The search_vector UPDATE left a dead copy of every row, and the first reads would pay
        # for setting hint bits: VACUUM does what autovacuum would soon do on a real server.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return {
        "messages": count,
        "mailboxes": len(boxes),
        "seconds": round(time.perf_counter() - started, 1),
        "sample_ids": sample_ids,
    }
