"""`tidings keys create`: operator access to mint a key without an existing one."""

from __future__ import annotations

from typing import cast

from tidings_server.directory.api_keys import ApiKeyService
from tidings_server.directory.keys import KeyKind, Principal
from tidings_server.runtime import open_runtime
from tidings_server.settings import Settings


async def mint_with_operator_access(
    settings: Settings, *, name: str, kind: str, identity: str | None
) -> str:
    if kind not in ("root", "agent"):
        raise SystemExit("--kind must be root or agent")
    async with open_runtime(settings) as runtime:
        operator = Principal(
            org_id=runtime.bootstrap.org_id, key_id="operator", kind="root", identity_id=None
        )
        async with runtime.writes.begin() as session:
            service = ApiKeyService(session, operator, runtime.clock)
            created = await service.create(
                name=name, kind=cast(KeyKind, kind), identity=identity, expires_at=None
            )
        return created.plaintext
