"""`td.messages`: send, list and read a mailbox's messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tidings._base_client import Request
from tidings._models import Deleted, Message, MessageSummary
from tidings._pagination import AsyncPage, SyncPage
from tidings.resources._shared import AsyncResource, SyncResource, idempotent, page_params


def _send(
    mailbox: str,
    *,
    to: Sequence[str],
    subject: str,
    body_text: str | None,
    body_html: str | None,
    cc: Sequence[str],
    bcc: Sequence[str],
    in_reply_to: str | None,
    headers: dict[str, str] | None,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> Request:
    body: dict[str, Any] = {"to": list(to), "subject": subject, "cc": list(cc), "bcc": list(bcc)}
    optional = {
        "body_text": body_text,
        "body_html": body_html,
        "in_reply_to": in_reply_to,
        "headers": headers,
        "idempotency_key": idempotency_key,
        "correlation_id": correlation_id,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    # The same key travels as the header too, so the SDK does not add a different one.
    return Request(
        "POST", f"/v1/mailboxes/{mailbox}/messages", json=body, headers=idempotent(idempotency_key)
    )


def _list(mailbox: str, limit: int | None, cursor: str | None, **filters: Any) -> Request:
    params = page_params(limit, cursor, **filters)
    if "from_" in params:
        params["from"] = params.pop("from_")
    return Request("GET", f"/v1/mailboxes/{mailbox}/messages", params=params)


def _path(mailbox: str, message_id: str, tail: str = "") -> str:
    return f"/v1/mailboxes/{mailbox}/messages/{message_id}{tail}"


def _flags(mailbox: str, message_id: str, **changes: object) -> Request:
    body = {k: v for k, v in changes.items() if v is not None}
    return Request("PATCH", _path(mailbox, message_id), json=body)


def _answer(
    mailbox: str,
    message_id: str,
    kind: str,
    *,
    to: Sequence[str],
    cc: Sequence[str],
    bcc: Sequence[str],
    body_text: str | None,
    body_html: str | None,
    idempotency_key: str | None,
    correlation_id: str | None,
) -> Request:
    body: dict[str, Any] = {"to": list(to), "cc": list(cc), "bcc": list(bcc)}
    optional = {
        "body_text": body_text,
        "body_html": body_html,
        "idempotency_key": idempotency_key,
        "correlation_id": correlation_id,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return Request(
        "POST", _path(mailbox, message_id, f"/{kind}"), json=body,
        headers=idempotent(idempotency_key),
    )  # fmt: skip


class Messages(SyncResource):
    def send(
        self,
        mailbox: str,
        *,
        to: Sequence[str],
        subject: str,
        body_text: str | None = None,
        body_html: str | None = None,
        cc: Sequence[str] = (),
        bcc: Sequence[str] = (),
        in_reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> Message:
        """Queue a message from `mailbox`; the answer has status `queued`.

        `correlation_id` is your own reference (a job or ticket id): the events about this
        message's delivery carry it back.
        """
        request = _send(
            mailbox, to=to, subject=subject, body_text=body_text, body_html=body_html, cc=cc,
            bcc=bcc, in_reply_to=in_reply_to, headers=headers, idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )  # fmt: skip
        return self._one(request, Message)

    def list(
        self,
        mailbox: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        direction: str | None = None,
        unread: bool | None = None,
        thread_id: str | None = None,
    ) -> SyncPage[MessageSummary]:
        request = _list(
            mailbox, limit, cursor, direction=direction, unread=unread, thread_id=thread_id
        )
        return self._page(request, MessageSummary)

    def get(self, mailbox: str, message_id: str) -> Message:
        return self._one(Request("GET", f"/v1/mailboxes/{mailbox}/messages/{message_id}"), Message)

    def update_flags(
        self,
        mailbox: str,
        message_id: str,
        *,
        is_read: bool | None = None,
        is_starred: bool | None = None,
        labels: Sequence[str] | None = None,
    ) -> Message:
        changes = _flags(
            mailbox, message_id, is_read=is_read, is_starred=is_starred,
            labels=list(labels) if labels is not None else None,
        )  # fmt: skip
        return self._one(changes, Message)

    def mark_read(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_read=True)

    def mark_unread(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_read=False)

    def star(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_starred=True)

    def unstar(self, mailbox: str, message_id: str) -> Message:
        return self.update_flags(mailbox, message_id, is_starred=False)

    def delete(self, mailbox: str, message_id: str) -> Deleted:
        return self._one(Request("DELETE", _path(mailbox, message_id)), Deleted)

    def get_raw(self, mailbox: str, message_id: str) -> bytes:
        """The message byte for byte as received or sent."""
        request = Request("GET", _path(mailbox, message_id, "/raw"), binary=True)
        return bytes(self._client.request(request))

    def get_attachment(self, mailbox: str, message_id: str, attachment_id: str) -> bytes:
        tail = f"/attachments/{attachment_id}"
        request = Request("GET", _path(mailbox, message_id, tail), binary=True)
        return bytes(self._client.request(request))

    def reply(
        self, mailbox: str, message_id: str, *, body_text: str | None = None,
        body_html: str | None = None, to: Sequence[str] = (), cc: Sequence[str] = (),
        bcc: Sequence[str] = (), idempotency_key: str | None = None, reply_all: bool = False,
        correlation_id: str | None = None,
    ) -> Message:  # fmt: skip
        """Reply (or reply to all); recipients, `Re:` and threading come from the server."""
        request = _answer(
            mailbox, message_id, "reply-all" if reply_all else "reply", to=to, cc=cc, bcc=bcc,
            body_text=body_text, body_html=body_html, idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )  # fmt: skip
        return self._one(request, Message)

    def forward(
        self, mailbox: str, message_id: str, *, to: Sequence[str], body_text: str | None = None,
        body_html: str | None = None, cc: Sequence[str] = (), bcc: Sequence[str] = (),
        idempotency_key: str | None = None, correlation_id: str | None = None,
    ) -> Message:  # fmt: skip
        request = _answer(
            mailbox, message_id, "forward", to=to, cc=cc, bcc=bcc, body_text=body_text,
            body_html=body_html, idempotency_key=idempotency_key, correlation_id=correlation_id,
        )  # fmt: skip
        return self._one(request, Message)


class AsyncMessages(AsyncResource):
    async def send(
        self,
        mailbox: str,
        *,
        to: Sequence[str],
        subject: str,
        body_text: str | None = None,
        body_html: str | None = None,
        cc: Sequence[str] = (),
        bcc: Sequence[str] = (),
        in_reply_to: str | None = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        correlation_id: str | None = None,
    ) -> Message:
        request = _send(
            mailbox, to=to, subject=subject, body_text=body_text, body_html=body_html, cc=cc,
            bcc=bcc, in_reply_to=in_reply_to, headers=headers, idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )  # fmt: skip
        return await self._one(request, Message)

    async def list(
        self,
        mailbox: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        direction: str | None = None,
        unread: bool | None = None,
        thread_id: str | None = None,
    ) -> AsyncPage[MessageSummary]:
        request = _list(
            mailbox, limit, cursor, direction=direction, unread=unread, thread_id=thread_id
        )
        return await self._page(request, MessageSummary)

    async def get(self, mailbox: str, message_id: str) -> Message:
        request = Request("GET", f"/v1/mailboxes/{mailbox}/messages/{message_id}")
        return await self._one(request, Message)

    async def update_flags(
        self,
        mailbox: str,
        message_id: str,
        *,
        is_read: bool | None = None,
        is_starred: bool | None = None,
        labels: Sequence[str] | None = None,
    ) -> Message:
        changes = _flags(
            mailbox, message_id, is_read=is_read, is_starred=is_starred,
            labels=list(labels) if labels is not None else None,
        )  # fmt: skip
        return await self._one(changes, Message)

    async def mark_read(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_read=True)

    async def mark_unread(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_read=False)

    async def star(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_starred=True)

    async def unstar(self, mailbox: str, message_id: str) -> Message:
        return await self.update_flags(mailbox, message_id, is_starred=False)

    async def delete(self, mailbox: str, message_id: str) -> Deleted:
        return await self._one(Request("DELETE", _path(mailbox, message_id)), Deleted)

    async def get_raw(self, mailbox: str, message_id: str) -> bytes:
        """The message byte for byte as received or sent."""
        request = Request("GET", _path(mailbox, message_id, "/raw"), binary=True)
        return bytes(await self._client.request(request))

    async def get_attachment(self, mailbox: str, message_id: str, attachment_id: str) -> bytes:
        tail = f"/attachments/{attachment_id}"
        request = Request("GET", _path(mailbox, message_id, tail), binary=True)
        return bytes(await self._client.request(request))

    async def reply(
        self, mailbox: str, message_id: str, *, body_text: str | None = None,
        body_html: str | None = None, to: Sequence[str] = (), cc: Sequence[str] = (),
        bcc: Sequence[str] = (), idempotency_key: str | None = None, reply_all: bool = False,
        correlation_id: str | None = None,
    ) -> Message:  # fmt: skip
        """Reply (or reply to all); recipients, `Re:` and threading come from the server."""
        request = _answer(
            mailbox, message_id, "reply-all" if reply_all else "reply", to=to, cc=cc, bcc=bcc,
            body_text=body_text, body_html=body_html, idempotency_key=idempotency_key,
            correlation_id=correlation_id,
        )  # fmt: skip
        return await self._one(request, Message)

    async def forward(
        self, mailbox: str, message_id: str, *, to: Sequence[str], body_text: str | None = None,
        body_html: str | None = None, cc: Sequence[str] = (), bcc: Sequence[str] = (),
        idempotency_key: str | None = None, correlation_id: str | None = None,
    ) -> Message:  # fmt: skip
        request = _answer(
            mailbox, message_id, "forward", to=to, cc=cc, bcc=bcc, body_text=body_text,
            body_html=body_html, idempotency_key=idempotency_key, correlation_id=correlation_id,
        )  # fmt: skip
        return await self._one(request, Message)
