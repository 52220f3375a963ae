"""Identities and mailboxes as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tidings_server.api.schemas.common import (
    Description,
    HeaderText,
    PatchModel,
    RequestModel,
    View,
    not_null,
)
from tidings_server.store.models import Identity, Mailbox


class IdentityCreate(RequestModel):
    handle: str = Field(description="Local part of the mailbox address, e.g. `support-bot`.")
    display_name: HeaderText | None = None
    description: Description | None = None


class IdentityUpdate(PatchModel):
    display_name: HeaderText | None = None
    description: Description | None = None
    status: Literal["active", "paused"] | None = None

    _status_not_null = not_null("status")


class IdentityView(View):
    id: str
    handle: str
    display_name: str | None
    description: str | None
    status: Literal["active", "paused"]
    email_address: str
    mailbox_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, identity: Identity) -> IdentityView:
        return cls(
            id=identity.id,
            handle=identity.handle,
            display_name=identity.display_name,
            description=identity.description,
            status=identity.status,
            email_address=identity.mailbox.address,
            mailbox_id=identity.mailbox.id,
            created_at=identity.created_at,
            updated_at=identity.updated_at,
        )


class MailboxUpdate(PatchModel):
    display_name: HeaderText | None = None


class MailboxView(View):
    id: str
    address: str
    identity_id: str
    display_name: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, mailbox: Mailbox) -> MailboxView:
        return cls.model_validate(mailbox)
