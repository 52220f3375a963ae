"""Idempotency records: claiming a key, completing it with the response, releasing it on failure.

A claim commits on its own so that other processes see the key as in flight; completion is
written in the request's own transaction, so the stored answer exists exactly when the work
it describes was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tidings_server.store.models import IdempotencyRecord
from tidings_server.store.repositories.dialect import upsert


class ClaimState(Enum):
    NEW = "new"  # the caller holds the key and must run the request
    REPLAY = "replay"  # a stored answer exists for the same request
    CONFLICT = "conflict"  # the key was used for a different request
    IN_FLIGHT = "in_flight"  # another attempt holds the key right now


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    record: IdempotencyRecord


class IdempotencyRepository:
    """Records of one API key's idempotency keys."""

    def __init__(self, session: AsyncSession, *, org_id: str, api_key_id: str) -> None:
        self.session = session
        self.org_id = org_id
        self.api_key_id = api_key_id

    def _mine(self, key: str) -> list[sa.ColumnElement[bool]]:
        return [IdempotencyRecord.api_key_id == self.api_key_id, IdempotencyRecord.key == key]

    async def claim(
        self, key: str, fingerprint: str, *, now: datetime, lease: timedelta, ttl: timedelta
    ) -> Claim:
        await self.session.execute(
            sa.delete(IdempotencyRecord).where(
                *self._mine(key), IdempotencyRecord.expires_at <= now
            )
        )
        insert = (
            upsert(self.session, IdempotencyRecord)
            .values(
                org_id=self.org_id,
                api_key_id=self.api_key_id,
                key=key,
                fingerprint=fingerprint,
                locked_until=now + lease,
                created_at=now,
                expires_at=now + ttl,
            )
            .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
            .returning(IdempotencyRecord.id)
        )
        inserted = await self.session.scalar(insert) is not None
        record = await self.session.scalar(sa.select(IdempotencyRecord).where(*self._mine(key)))
        assert record is not None
        if inserted:
            return Claim(ClaimState.NEW, record)
        if record.fingerprint != fingerprint:
            return Claim(ClaimState.CONFLICT, record)
        if record.response_status is not None:
            return Claim(ClaimState.REPLAY, record)
        if record.locked_until is not None and record.locked_until > now:
            return Claim(ClaimState.IN_FLIGHT, record)
        # The previous holder died without answering: take the key over, unless someone beat us.
        taken = await self.session.scalar(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record.id)
            .where(IdempotencyRecord.locked_until == record.locked_until)
            .where(IdempotencyRecord.response_status.is_(None))
            .values(locked_until=now + lease)
            .returning(IdempotencyRecord.id)
        )
        return Claim(ClaimState.NEW if taken is not None else ClaimState.IN_FLIGHT, record)

    async def complete(
        self, record_id: int, *, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        await self.session.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(
                response_status=status,
                response_headers=headers,
                response_body=body,
                locked_until=None,
            )
        )

    async def release(self, record_id: int) -> None:
        await self.session.execute(
            sa.delete(IdempotencyRecord).where(
                IdempotencyRecord.id == record_id, IdempotencyRecord.response_status.is_(None)
            )
        )

    @staticmethod
    async def purge_expired(session: AsyncSession, now: datetime) -> int:
        deleted = await session.scalars(
            sa.delete(IdempotencyRecord)
            .where(IdempotencyRecord.expires_at <= now)
            .returning(IdempotencyRecord.id)
        )
        return len(deleted.all())
