"""What a key may do: the facts behind `GET /v1/session`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.directory.keys import Principal
from tidings_server.errors import Unauthorized
from tidings_server.store.models import ApiKey, Identity, Organisation
from tidings_server.store.repositories import (
    ApiKeyRepository,
    IdentityRepository,
    InstallationRepository,
)

ROOT_SCOPES = (
    "identities:read", "identities:write", "mailboxes:read", "mailboxes:write",
    "api_keys:read", "api_keys:write",
)  # fmt: skip
AGENT_SCOPES = (
    "identity:read",
    "identity:update",
    "mailbox:read",
    "mailbox:write",
    "api_keys:read",
)


@dataclass(frozen=True)
class WhoAmI:
    organisation: Organisation
    key: ApiKey
    identity: Identity | None
    scopes: tuple[str, ...]


async def who_am_i(session: AsyncSession, principal: Principal) -> WhoAmI:
    org = await InstallationRepository(session).get_organisation(principal.org_id)
    key = await ApiKeyRepository(session, principal.scope).get(principal.key_id)
    if org is None or key is None:
        raise Unauthorized("The API key is not recognised.", code="invalid_api_key")
    identity = None
    if principal.identity_id is not None:
        identity = await IdentityRepository(session, principal.scope).get(principal.identity_id)
    return WhoAmI(
        organisation=org,
        key=key,
        identity=identity,
        scopes=ROOT_SCOPES if principal.is_root else AGENT_SCOPES,
    )
