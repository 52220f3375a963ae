"""/v1/mailboxes/{address}/threads: conversations, each with its messages oldest first."""

from __future__ import annotations

from fastapi import Request

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Readers
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.deleted import Deleted
from tidings_server.api.schemas.messages import MessageView, ThreadView, ThreadWithMessages
from tidings_server.store.models import Mailbox, Message, Thread

router = v1_router("/mailboxes/{address}/threads", "threads")


def _with_messages(thread: Thread, messages: list[Message], mailbox: Mailbox) -> ThreadWithMessages:
    return ThreadWithMessages(
        **ThreadView.of(thread, mailbox).model_dump(),
        messages=[MessageView.full(m, mailbox) for m in messages],
    )


@router.get("")
async def list_threads(address: str, readers: Readers, paging: Paging) -> ListResponse[ThreadView]:
    mailbox = await readers.mailbox(address)
    page = await readers.list_threads(mailbox, paging.request)
    return paging.respond(page, lambda thread: ThreadView.of(thread, mailbox))


@router.get("/{thread_id}")
async def get_thread(address: str, thread_id: str, readers: Readers) -> ThreadWithMessages:
    mailbox = await readers.mailbox(address)
    thread, messages = await readers.thread(mailbox, thread_id)
    return _with_messages(thread, messages, mailbox)


@router.delete("/{thread_id}")
async def delete_thread(
    address: str, thread_id: str, readers: Readers, request: Request
) -> Deleted:
    mailbox = await readers.mailbox(address)
    thread, messages = await readers.thread(mailbox, thread_id)
    check_if_match(request, _with_messages(thread, messages, mailbox))
    await readers.delete_thread(mailbox, thread_id)
    return Deleted(id=thread.id)
