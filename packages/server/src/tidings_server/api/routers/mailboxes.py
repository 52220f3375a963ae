"""/v1/mailboxes: the hosted addresses, addressed by address (or id)."""

from __future__ import annotations

from fastapi import Request

from tidings_server.api.conditional import check_if_match
from tidings_server.api.deps import Mailboxes
from tidings_server.api.pagination import ListResponse, Paging
from tidings_server.api.routers import v1_router
from tidings_server.api.schemas.identities import MailboxUpdate, MailboxView

router = v1_router("/mailboxes", "mailboxes")


@router.get("")
async def list_mailboxes(mailboxes: Mailboxes, paging: Paging) -> ListResponse[MailboxView]:
    return paging.respond(await mailboxes.list(paging.request), MailboxView.of)


@router.get("/{address}")
async def get_mailbox(address: str, mailboxes: Mailboxes) -> MailboxView:
    return MailboxView.of(await mailboxes.get(address))


@router.patch("/{address}")
async def update_mailbox(
    address: str, body: MailboxUpdate, mailboxes: Mailboxes, request: Request
) -> MailboxView:
    check_if_match(request, MailboxView.of(await mailboxes.get(address)))
    mailbox = await mailboxes.update(address, body.changes())
    return MailboxView.of(mailbox)
