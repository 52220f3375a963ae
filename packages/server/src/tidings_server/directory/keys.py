"""API keys: minting, the secret's format and hash, and turning a presented key into a Principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.clock import Clock
from tidings_server.directory.recent import Recent
from tidings_server.errors import Unauthorized
from tidings_server.store.repositories import CredentialLookup
from tidings_server.store.scope import Scope

KeyKind = Literal["root", "agent"]
KIND_PREFIX: dict[KeyKind, str] = {"root": "td_root_", "agent": "td_agent_"}
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 40
_LOOKUP_LENGTH = 12
# Writing last_used_at on every request would cost a durable write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class MintedKey:
    plaintext: str
    lookup: str
    secret_hash: str
    prefix: str


@dataclass(frozen=True)
class Principal:
    """The caller: which organisation, which key, and (for agent keys) which identity."""

    org_id: str
    key_id: str
    kind: KeyKind
    identity_id: str | None
    last_used_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def scope(self) -> Scope:
        return Scope(org_id=self.org_id, identity_id=self.identity_id)

    @property
    def is_root(self) -> bool:
        return self.kind == "root"


def hash_secret(plaintext: str) -> str:
    # Keys are 238 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(plaintext.encode()).hexdigest()


def mint_key(kind: KeyKind) -> MintedKey:
    token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
    plaintext = KIND_PREFIX[kind] + token
    return MintedKey(
        plaintext=plaintext,
        lookup=token[:_LOOKUP_LENGTH],
        secret_hash=hash_secret(plaintext),
        prefix=plaintext[: len(KIND_PREFIX[kind]) + 8],
    )


def _parse(presented: str) -> tuple[KeyKind, str]:
    for kind, prefix in KIND_PREFIX.items():
        if presented.startswith(prefix):
            token = presented[len(prefix) :]
            if len(token) == _TOKEN_LENGTH and all(c in _TOKEN_ALPHABET for c in token):
                return kind, token[:_LOOKUP_LENGTH]
    raise Unauthorized(
        "The API key is not in the expected format.",
        code="malformed_api_key",
        fix="Send the whole key as shown at creation: `Authorization: Bearer td_root_...` "
        "or `td_agent_...`.",
    )


def require_key(presented: str | None) -> str:
    """The presented key, or 401 `missing_api_key` when the request carried none."""
    if not presented:
        raise Unauthorized(
            "No API key was sent.",
            code="missing_api_key",
            fix="Send `Authorization: Bearer <key>`; the first start wrote a root key to "
            "<data-dir>/root_api_key.",
        )
    return presented


async def authenticate(session: AsyncSession, presented: str, clock: Clock) -> Principal:
    """Resolve a presented key, or raise 401 with a code that says what is wrong with it."""
    kind, lookup = _parse(presented)
    credentials = CredentialLookup(session)
    row = await credentials.by_lookup(lookup)
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(presented)):
        raise Unauthorized("The API key is not recognised.", code="invalid_api_key")
    now = clock.now()
    if row.revoked_at is not None:
        raise Unauthorized(
            "The API key was revoked.",
            code="api_key_revoked",
            fix="Use another key, or ask an organisation admin to mint a new one.",
        )
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized(
            f"The API key expired at {row.expires_at.isoformat()}.",
            code="api_key_expired",
            fix="Ask an organisation admin to mint a new key.",
        )
    assert row.kind == kind
    return Principal(
        org_id=row.org_id,
        key_id=row.id,
        kind=kind,
        identity_id=row.identity_id,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
    )


def needs_touch(principal: Principal, now: datetime) -> bool:
    last = principal.last_used_at
    return last is None or now - last >= LAST_USED_PRECISION


async def record_use(session: AsyncSession, principal: Principal, now: datetime) -> None:
    await CredentialLookup(session).touch(principal.key_id, now)


class PrincipalCache:
    """Keys this process authenticated recently, so most requests skip the key lookup.

    Entries live `ttl_seconds` (see `directory.recent`); a key's own expiry is checked on
    every hit as well. `ttl_seconds=0` turns the cache off.
    """

    def __init__(
        self, ttl_seconds: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._recent: Recent[str, Principal] = Recent(ttl_seconds, monotonic=monotonic)

    def get(self, presented: str, now: datetime) -> Principal | None:
        principal = self._recent.get(hash_secret(presented))
        if principal is None:
            return None
        if principal.expires_at is not None and principal.expires_at <= now:
            return None
        return principal

    def put(self, presented: str, principal: Principal) -> None:
        self._recent.put(hash_secret(presented), principal)

    def used(self, presented: str, principal: Principal, now: datetime) -> Principal:
        """The principal after `record_use`: cached with its new `last_used_at`."""
        touched = replace(principal, last_used_at=now)
        self._recent.update(hash_secret(presented), touched)
        return touched

    def clear(self) -> None:
        self._recent.clear()
