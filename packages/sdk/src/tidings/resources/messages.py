"""`td.messages`: send, list and read a mailbox's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict, Unpack, overload

from tidings._bodies import ForwardBody, MessageUpdateBody, ReplyBody, SendBody
from tidings._endpoints import Api, Request
from tidings._models import Deleted, Message, MessageSummary, NotModified
from tidings._pagination import AsyncPage, SyncPage
from tidings._raw import araw, raw
from tidings.resources._composition import Addresses, Composition, address_list, composed_body
from tidings.resources._shared import AsyncResource, SyncResource, conditional, page_params

__all__ = ["AsyncMessages", "MessageFilters", "Messages"]


class MessageFilters(TypedDict, total=False):
    """Filters of a message list; all of them must hold. `label` may name several."""

    direction: Literal["inbound", "outbound"] | None
    unread: bool | None
    starred: bool | None
    label: str | Sequence[str] | None
    thread_id: str | None
    from_: str | None  # the sender's address
    before: datetime | None
    after: datetime | None


def _send(
    mailbox: str, to: Addresses, subject: str, in_reply_to: str | None, composed: Composition
) -> Request:
    sending = composed_body(
        SendBody, composed, to=address_list(to), subject=subject, in_reply_to=in_reply_to
    )
    return Api.SEND_MESSAGE.request(address=mailbox, **sending)


def _reply(
    mailbox: str, message_id: str, to: Addresses, reply_all: bool, composed: Composition
) -> Request:
    api = Api.REPLY_ALL if reply_all else Api.REPLY
    sending = composed_body(ReplyBody, composed, to=address_list(to) or None)
    return api.request(address=mailbox, message_id=message_id, **sending)


def _forward(mailbox: str, message_id: str, to: Addresses, composed: Composition) -> Request:
    sending = composed_body(ForwardBody, composed, to=address_list(to))
    return Api.FORWARD.request(address=mailbox, message_id=message_id, **sending)


def _list(mailbox: str, limit: int | None, cursor: str | None, filters: MessageFilters) -> Request:
    given: dict[str, Any] = dict(filters)
    label = given.pop("label", None)
    given["label"] = [label] if isinstance(label, str) else list(label) if label else None
    given["from"] = given.pop("from_", None)
    return Api.LIST_MESSAGES.request(address=mailbox, params=page_params(limit, cursor, **given))


def _get(mailbox: str, message_id: str, if_none_match: str | None) -> Request:
    return Api.GET_MESSAGE.request(
        address=mailbox, message_id=message_id, headers=conditional(if_none_match=if_none_match)
    )


def _update(
    mailbox: str, message_id: str, if_match: str | None, labels: Sequence[str] | None,
    **flags: bool | None,
) -> Request:  # fmt: skip
    body = MessageUpdateBody.given(**flags, labels=list(labels) if labels is not None else None)
    return Api.UPDATE_MESSAGE.request(
        address=mailbox, message_id=message_id, body=body, headers=conditional(if_match=if_match)
    )


def _delete(mailbox: str, message_id: str, if_match: str | None) -> Request:
    return Api.DELETE_MESSAGE.request(
        address=mailbox, message_id=message_id, headers=conditional(if_match=if_match)
    )


def _raw_message(mailbox: str, message_id: str) -> Request:
    return Api.GET_RAW_MESSAGE.request(address=mailbox, message_id=message_id)


def _attachment(mailbox: str, message_id: str, attachment_id: str) -> Request:
    return Api.GET_ATTACHMENT.request(
        address=mailbox, message_id=message_id, attachment_id=attachment_id
    )


class Messages(SyncResource):
    def send(
        self,
        mailbox: str,
        *,
        to: Addresses,
        subject: str,
        in_reply_to: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        """Queue a message from `mailbox`; the answer has status `queued`.

        `in_reply_to` (a message id or RFC Message-ID) threads it as a reply. Attachments
        are streamed from their files, never read into memory whole.
        """
        return self._one(_send(mailbox, to, subject, in_reply_to, composed), Message)

    def list(
        self,
        mailbox: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Unpack[MessageFilters],
    ) -> SyncPage[MessageSummary]:
        """Newest first, without bodies (`get` one for those)."""
        return self._page(_list(mailbox, limit, cursor, filters), MessageSummary)

    @overload
    def get(self, mailbox: str, message_id: str) -> Message: ...
    @overload
    def get(
        self, mailbox: str, message_id: str, *, if_none_match: str | None
    ) -> Message | NotModified: ...
    def get(
        self, mailbox: str, message_id: str, *, if_none_match: str | None = None
    ) -> Message | NotModified:
        return self._maybe(_get(mailbox, message_id, if_none_match), Message)

    def update_flags(
        self,
        mailbox: str,
        message_id: str,
        *,
        is_read: bool | None = None,
        is_starred: bool | None = None,
        labels: Sequence[str] | None = None,
        if_match: str | None = None,
    ) -> Message:
        """Change only the flags given; `labels` replaces the whole list."""
        request = _update(
            mailbox, message_id, if_match, labels, is_read=is_read, is_starred=is_starred
        )
        return self._one(request, Message)

    def mark_read(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_read=True)

    def mark_unread(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_read=False)

    def star(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_starred=True)

    def unstar(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_starred=False)

    def delete(self, mailbox: str, message_id: str, *, if_match: str | None = None) -> Deleted:
        return self._one(_delete(mailbox, message_id, if_match), Deleted)

    def get_raw(self, mailbox: str, message_id: str) -> bytes:
        """The message byte for byte as received or sent."""
        return self._bytes(_raw_message(mailbox, message_id))

    def get_attachment(self, mailbox: str, message_id: str, attachment_id: str) -> bytes:
        return self._bytes(_attachment(mailbox, message_id, attachment_id))

    def reply(
        self,
        mailbox: str,
        message_id: str,
        *,
        to: Addresses = (),
        reply_all: bool = False,
        **composed: Unpack[Composition],
    ) -> Message:
        """Reply (or reply to all); recipients, `Re:` and threading come from the server,
        and `to` adds more."""
        return self._one(_reply(mailbox, message_id, to, reply_all, composed), Message)

    def forward(
        self, mailbox: str, message_id: str, *, to: Addresses, **composed: Unpack[Composition]
    ) -> Message:
        """Forward with `Fwd:`, the original quoted below `body_text`, and its attachments."""
        return self._one(_forward(mailbox, message_id, to, composed), Message)


class AsyncMessages(AsyncResource):
    async def send(
        self,
        mailbox: str,
        *,
        to: Addresses,
        subject: str,
        in_reply_to: str | None = None,
        **composed: Unpack[Composition],
    ) -> Message:
        return await self._one(_send(mailbox, to, subject, in_reply_to, composed), Message)

    async def list(
        self,
        mailbox: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        **filters: Unpack[MessageFilters],
    ) -> AsyncPage[MessageSummary]:
        return await self._page(_list(mailbox, limit, cursor, filters), MessageSummary)

    @overload
    async def get(self, mailbox: str, message_id: str) -> Message: ...
    @overload
    async def get(
        self, mailbox: str, message_id: str, *, if_none_match: str | None
    ) -> Message | NotModified: ...
    async def get(
        self, mailbox: str, message_id: str, *, if_none_match: str | None = None
    ) -> Message | NotModified:
        return await self._maybe(_get(mailbox, message_id, if_none_match), Message)

    async def update_flags(
        self,
        mailbox: str,
        message_id: str,
        *,
        is_read: bool | None = None,
        is_starred: bool | None = None,
        labels: Sequence[str] | None = None,
        if_match: str | None = None,
    ) -> Message:
        request = _update(
            mailbox, message_id, if_match, labels, is_read=is_read, is_starred=is_starred
        )
        return await self._one(request, Message)

    async def mark_read(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_read=True)

    async def mark_unread(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_read=False)

    async def star(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_starred=True)

    async def unstar(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_starred=False)

    async def delete(
        self, mailbox: str, message_id: str, *, if_match: str | None = None
    ) -> Deleted:
        return await self._one(_delete(mailbox, message_id, if_match), Deleted)

    async def get_raw(self, mailbox: str, message_id: str) -> bytes:
        return await self._bytes(_raw_message(mailbox, message_id))

    async def get_attachment(self, mailbox: str, message_id: str, attachment_id: str) -> bytes:
        return await self._bytes(_attachment(mailbox, message_id, attachment_id))

    async def reply(
        self,
        mailbox: str,
        message_id: str,
        *,
        to: Addresses = (),
        reply_all: bool = False,
        **composed: Unpack[Composition],
    ) -> Message:
        return await self._one(_reply(mailbox, message_id, to, reply_all, composed), Message)

    async def forward(
        self, mailbox: str, message_id: str, *, to: Addresses, **composed: Unpack[Composition]
    ) -> Message:
        return await self._one(_forward(mailbox, message_id, to, composed), Message)


class MessagesWithRawResponse:
    def __init__(self, messages: Messages) -> None:
        self.send = raw(messages.send)
        self.list = raw(messages.list)
        self.get = raw(messages.get)
        self.update_flags = raw(messages.update_flags)
        self.mark_read = raw(messages.mark_read)
        self.mark_unread = raw(messages.mark_unread)
        self.star = raw(messages.star)
        self.unstar = raw(messages.unstar)
        self.delete = raw(messages.delete)
        self.get_raw = raw(messages.get_raw)
        self.get_attachment = raw(messages.get_attachment)
        self.reply = raw(messages.reply)
        self.forward = raw(messages.forward)


class AsyncMessagesWithRawResponse:
    def __init__(self, messages: AsyncMessages) -> None:
        self.send = araw(messages.send)
        self.list = araw(messages.list)
        self.get = araw(messages.get)
        self.update_flags = araw(messages.update_flags)
        self.mark_read = araw(messages.mark_read)
        self.mark_unread = araw(messages.mark_unread)
        self.star = araw(messages.star)
        self.unstar = araw(messages.unstar)
        self.delete = araw(messages.delete)
        self.get_raw = araw(messages.get_raw)
        self.get_attachment = araw(messages.get_attachment)
        self.reply = araw(messages.reply)
        self.forward = araw(messages.forward)
