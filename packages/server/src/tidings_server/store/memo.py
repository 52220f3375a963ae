"""Directory rows remembered for the rest of one transaction.

A shared filing transaction (`store.group_commit`) files many messages to the same few
mailboxes, and each message asks again for its recipient's mailbox, for who is who among its
addresses and for the subscriptions its event fans out to; a send names its mailbox once to
send and once more to answer. Within one transaction those answers change only if the
transaction itself changes a mailbox, identity or webhook, so the memo forgets everything as
soon as one of those is pending or flushed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable
from itertools import chain
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tidings_server.store.models import Identity, Mailbox, Webhook

T = TypeVar("T")
_KEY = "tidings.memo"
_DIRECTORY = (Mailbox, Identity, Webhook)


async def remembered(
    session: AsyncSession,
    key: Hashable,
    load: Callable[[], Awaitable[T]],
    *,
    also: Iterable[Hashable] = (),
) -> T:
    """`load()`'s answer, asked once per transaction for each `key`.

    The key must name the query and every value it depends on, tenant scope included.
    `also` names narrower queries that the same answer answers too.
    """
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None or _changing_directory(session.sync_session):
        memo = session.info[_KEY] = {}
    if key in memo:
        return cast(T, memo[key])
    value = await load()
    # Not into `memo`: a flush inside `load` may have replaced it, and the answer (read
    # after that flush) belongs in the memo that is current now.
    current = session.info.setdefault(_KEY, {})
    for answered in (key, *also):
        current[answered] = value
    return value


def _changing_directory(session: Session) -> bool:
    pending = chain(session.new, session.dirty, session.deleted)
    return any(isinstance(row, _DIRECTORY) for row in pending)


@event.listens_for(Session, "before_flush")
def _forget_on_directory_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _KEY in session.info and _changing_directory(session):
        del session.info[_KEY]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: Any) -> None:
    # A session may outlive its transaction (reads, then a write); rows may change between.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
