"""Which conversation a message belongs to.

References first (newest first), then In-Reply-To, then the normalised subject among the
same participants within a window; otherwise a new thread. Each message records how it was
matched (`thread_match`), so surprising threading can be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server import ids
from tidings_server.mime.subjects import normalize_subject
from tidings_server.store.models import Mailbox, Thread
from tidings_server.store.repositories.mail import MessageRepository, ThreadRepository
from tidings_server.store.scope import Scope

SUBJECT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Placement:
    thread: Thread
    match: str  # references | in_reply_to | subject | new


def subject_key(subject: str) -> str:
    return normalize_subject(subject).casefold()[:255]


class ThreadResolver:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.messages = MessageRepository(session, scope)
        self.threads = ThreadRepository(session, scope)

    async def place(
        self,
        mailbox: Mailbox,
        *,
        subject: str,
        in_reply_to: str | None,
        references: list[str],
        participants: set[str],
        now: datetime,
    ) -> Placement:
        for match, candidates in (
            ("references", list(reversed(references))),
            ("in_reply_to", [in_reply_to] if in_reply_to else []),
        ):
            found = await self.messages.by_rfc_ids(mailbox.id, candidates)
            if found:
                by_id = {m.rfc_message_id: m for m in found}
                first = next(by_id[c] for c in candidates if c in by_id)
                thread = await self.threads.get(first.thread_id)
                assert thread is not None
                return Placement(thread, match)
        key = subject_key(subject)
        if key:
            for thread in await self.threads.recent_by_subject(
                mailbox.id, key, now - SUBJECT_WINDOW
            ):
                if participants & set(thread.participants):
                    return Placement(thread, "subject")
        thread = Thread(
            id=ids.new_id("thr"),
            org_id=mailbox.org_id,
            identity_id=mailbox.identity_id,
            mailbox_id=mailbox.id,
            subject=normalize_subject(subject),
            subject_key=key,
            participants=sorted(participants),
            message_count=1,  # counted in as it is inserted: no UPDATE follows
            last_message_at=now,
            created_at=now,
            updated_at=now,
        )
        # Written now: the message that refers to it follows in its own statement.
        await self.threads.insert([thread])
        return Placement(thread, "new")

    @staticmethod
    def record(thread: Thread, participants: set[str], at: datetime) -> None:
        """Count a message into its thread."""
        thread.participants = sorted(set(thread.participants) | participants)
        thread.message_count += 1
        thread.last_message_at = max(thread.last_message_at, at)
        thread.updated_at = at
