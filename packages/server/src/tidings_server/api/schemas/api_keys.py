"""API keys as the API shows them: the secret appears once, in the create answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from tidings_server.api.schemas.common import HeaderText, RequestModel, View
from tidings_server.store.models import ApiKey


class ApiKeyCreate(RequestModel):
    name: HeaderText = Field(min_length=1)
    kind: Literal["root", "agent"] = "agent"
    identity_id: str | None = Field(
        default=None, description="Identity id or handle; required for agent keys."
    )
    expires_at: AwareDatetime | None = Field(default=None, strict=False)


class ApiKeyView(View):
    id: str
    name: str
    kind: Literal["root", "agent"]
    identity_id: str | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyView:
        return cls.model_validate(row)


class ApiKeyCreated(ApiKeyView):
    key: str | None = Field(
        description="The secret. Shown only in this answer (null in an idempotent replay)."
    )
