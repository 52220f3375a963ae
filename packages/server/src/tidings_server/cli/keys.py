"""Operator commands that work on the database directly: minting keys, the DKIM record."""

from __future__ import annotations

from typing import cast

from tidings_server.delivery import dkim_keys
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


async def dkim_record(settings: Settings) -> tuple[str, str]:
    """The record name and TXT value for the domain's DKIM key (made here if missing)."""
    async with open_runtime(settings) as runtime, runtime.writes.begin() as session:
        key = await dkim_keys.ensure_key(session, settings.domain, runtime.clock.now())
        return f"{key.selector}._domainkey.{key.domain}.", dkim_keys.dns_record(key)
