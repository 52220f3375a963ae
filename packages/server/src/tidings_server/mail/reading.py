"""Reading a mailbox: messages with filters, flags and labels, attachments, threads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server.clock import Clock
from tidings_server.directory.keys import Principal
from tidings_server.directory.mailboxes import MailboxService
from tidings_server.errors import NotFound
from tidings_server.store.models import Attachment, Mailbox, Message, Thread
from tidings_server.store.repositories import Page, PageRequest
from tidings_server.store.repositories.identities import mailbox_key
from tidings_server.store.repositories.mail import MessageRepository, ThreadRepository
from tidings_server.store.repositories.search import Hit, SearchIndex
from tidings_server.store.repositories.summaries import (
    MessageFilter,
    MessageSummaries,
    MessageSummaryRow,
)

FLAGS = frozenset({"is_read", "is_starred", "labels"})


def _no_message(message_id: str, mailbox: Mailbox) -> NotFound:
    return NotFound(f"No message {message_id!r} in {mailbox.address}.", param="message_id")


class MailboxReader:
    """Messages and threads of one mailbox the caller can see (404 for any other)."""

    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        *,
        search_window: int,
        long_reads: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.mailboxes = MailboxService(session, principal, clock)
        self.messages = MessageRepository(session, principal.scope)
        self.summaries = MessageSummaries(session, principal.scope)
        self.threads = ThreadRepository(session, principal.scope)
        self.index = SearchIndex(session, ranking=long_reads)
        self.search_window = search_window

    async def mailbox(self, address: str) -> Mailbox:
        return await self.mailboxes.get(address)

    async def list_messages(
        self, address: str, filters: MessageFilter, page: PageRequest
    ) -> tuple[str, Page[MessageSummaryRow]]:
        """A page of the mailbox at `address` (or id), and the mailbox's address. Named by
        address, the mailbox is found by the page's own statement; only an empty page asks
        whether it exists (404 if not)."""
        by_id, key = mailbox_key(address)
        if by_id:
            mailbox = await self.mailbox(address)
            return mailbox.address, await self.summaries.page(mailbox.id, filters, page)
        found = await self.summaries.page_at(key, filters, page)
        if not found.items:
            await self.mailbox(address)
        return key, found

    async def message(self, mailbox: Mailbox, message_id: str) -> Message:
        message = await self.messages.get(message_id)
        if message is None or message.mailbox_id != mailbox.id:
            raise _no_message(message_id, mailbox)
        return message

    async def message_at(self, address: str, message_id: str) -> tuple[Message, Mailbox]:
        """A message by its mailbox's address (or id) and its own id, in one query."""
        found = await self.messages.get_in_mailbox(message_id, address)
        if found is None:
            mailbox = await self.mailbox(address)  # 404 for the mailbox, if that is what is missing
            raise _no_message(message_id, mailbox)
        return found

    async def attachment(self, mailbox: Mailbox, message_id: str, attachment_id: str) -> Attachment:
        message = await self.message(mailbox, message_id)
        for attachment in message.attachments:
            if attachment.id == attachment_id:
                return attachment
        raise NotFound(f"No attachment {attachment_id!r} on {message_id}.", param="attachment_id")

    async def update_flags(
        self, mailbox: Mailbox, message_id: str, changes: Mapping[str, Any]
    ) -> Message:
        message = await self.message(mailbox, message_id)
        unknown = set(changes) - FLAGS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        for name, value in changes.items():
            if name == "labels":
                message.set_labels(value)
            else:
                setattr(message, name, value)
        message.updated_at = self.clock.now()
        await self.session.flush()
        return message

    async def delete_message(self, mailbox: Mailbox, message_id: str) -> Message:
        message = await self.message(mailbox, message_id)
        thread = await self.threads.get(message.thread_id)
        await self.index.remove([message.id])
        await self.messages.delete(message)
        if thread is not None:
            thread.message_count -= 1
            if thread.message_count <= 0:
                await self.threads.delete(thread)
        await self.session.flush()
        return message

    async def search(
        self, mailbox: Mailbox, query: str, *, limit: int, offset: int
    ) -> list[tuple[MessageSummaryRow, Hit]]:
        """Ranked hits among the newest `search_window` matches, best first, each with its
        message's summary (a hit outside the caller's scope has none, and is dropped)."""
        hits = await self.index.search(
            mailbox, query, limit=limit, offset=offset, window=self.search_window
        )
        messages = {m.id: m for m in await self.summaries.many([h.message_id for h in hits])}
        return [(messages[h.message_id], h) for h in hits if h.message_id in messages]

    async def list_threads(self, mailbox: Mailbox, page: PageRequest) -> Page[Thread]:
        return await self.threads.page(page, Thread.mailbox_id == mailbox.id)

    async def thread(self, mailbox: Mailbox, thread_id: str) -> tuple[Thread, list[Message]]:
        thread = await self.threads.get(thread_id)
        if thread is None or thread.mailbox_id != mailbox.id:
            raise NotFound(f"No thread {thread_id!r} in {mailbox.address}.", param="thread_id")
        return thread, await self.messages.in_thread(thread.id)

    async def delete_thread(self, mailbox: Mailbox, thread_id: str) -> Thread:
        thread, messages = await self.thread(mailbox, thread_id)
        await self.index.remove([m.id for m in messages])
        for message in messages:
            await self.messages.delete(message)
        await self.threads.delete(thread)
        await self.session.flush()
        return thread
