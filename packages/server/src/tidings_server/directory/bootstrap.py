"""First start: create the organisation and its root key, shown once and saved for the operator."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tidings_server import ids
from tidings_server.clock import Clock
from tidings_server.directory.api_keys import new_key_row
from tidings_server.store.models import Organisation
from tidings_server.store.repositories import InstallationRepository


@dataclass(frozen=True)
class Bootstrap:
    org_id: str
    root_key: str | None  # only on the start that created the organisation


def write_secret_file(path: Path, content: str) -> None:
    """Write `content` readable by the owner only, durably, replacing any earlier file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, content.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


async def bootstrap(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, root_key_path: Path
) -> Bootstrap:
    """Create the organisation on the very first start; later starts (any process) find it."""
    async with sessions.begin() as session:
        installation = InstallationRepository(session)
        now = clock.now()
        if not await installation.claim_once("bootstrap", now):
            org = await installation.first_organisation()
            assert org is not None, "bootstrap was claimed but no organisation exists"
            return Bootstrap(org_id=org.id, root_key=None)
        org = Organisation(id=ids.new_id("org"), name="default", created_at=now)
        installation.add_organisation(org)
        await session.flush()
        created = new_key_row(org_id=org.id, name="root", kind="root", identity_id=None, now=now)
        session.add(created.row)
        await session.flush()
        # The file is written before the commit: if the commit fails the key never worked,
        # whereas a key committed but never saved would lock the operator out.
        write_secret_file(root_key_path, created.plaintext + "\n")
    return Bootstrap(org_id=org.id, root_key=created.plaintext)
