"""`td.messages`: send, list and read a mailbox's messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tidings._base_client import Request
from tidings._models import Message, MessageSummary
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
) -> Request:
    body: dict[str, Any] = {"to": list(to), "subject": subject, "cc": list(cc), "bcc": list(bcc)}
    optional = {
        "body_text": body_text,
        "body_html": body_html,
        "in_reply_to": in_reply_to,
        "headers": headers,
        "idempotency_key": idempotency_key,
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
    ) -> Message:
        """Queue a message from `mailbox`; the answer has status `queued`."""
        request = _send(
            mailbox, to=to, subject=subject, body_text=body_text, body_html=body_html, cc=cc,
            bcc=bcc, in_reply_to=in_reply_to, headers=headers, idempotency_key=idempotency_key,
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
    ) -> Message:
        request = _send(
            mailbox, to=to, subject=subject, body_text=body_text, body_html=body_html, cc=cc,
            bcc=bcc, in_reply_to=in_reply_to, headers=headers, idempotency_key=idempotency_key,
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
