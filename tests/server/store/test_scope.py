"""Scoped queries built once: the scope's values bind at execution, and are never optional."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from tidings_server.store import migrate
from tidings_server.store.engine import create_sync_engine
from tidings_server.store.models import Identity, Mailbox, Organisation
from tidings_server.store.scope import BoundScope, Scope, ScopedQuery

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _mailboxes(scope: BoundScope) -> sa.Select[str]:
    return sa.select(Mailbox.address).where(*scope.where(Mailbox)).order_by(Mailbox.address)


MAILBOXES = ScopedQuery(_mailboxes)


@pytest.fixture
def connection(database_url: str) -> Iterator[sa.Connection]:
    migrate.upgrade(database_url)
    engine = create_sync_engine(database_url)
    with engine.begin() as connection:
        for org in ("org_a", "org_b"):
            connection.execute(
                sa.insert(Organisation.__table__),
                {"id": org, "name": org, "created_at": NOW},
            )
            for handle in ("ana", "bob"):
                identity, mailbox = f"idn_{org}_{handle}", f"mbx_{org}_{handle}"
                connection.execute(
                    sa.insert(Identity.__table__),
                    {"id": identity, "org_id": org, "handle": handle, "status": "active",
                     "created_at": NOW, "updated_at": NOW},
                )  # fmt: skip
                connection.execute(
                    sa.insert(Mailbox.__table__),
                    {"id": mailbox, "org_id": org, "identity_id": identity,
                     "address": f"{handle}@{org}.test", "created_at": NOW, "updated_at": NOW},
                )  # fmt: skip
        yield connection
    engine.dispose()


def test_a_scoped_query_sees_only_its_scope_whichever_ran_first(connection: sa.Connection) -> None:
    def addresses(scope: Scope) -> list[str]:
        return list(connection.scalars(*MAILBOXES.bind(scope)))

    assert addresses(Scope("org_a", "idn_org_a_bob")) == ["bob@org_a.test"]
    assert addresses(Scope("org_a")) == ["ana@org_a.test", "bob@org_a.test"]
    assert addresses(Scope("org_b", "idn_org_b_ana")) == ["ana@org_b.test"]
    assert addresses(Scope("org_b")) == ["ana@org_b.test", "bob@org_b.test"]


def test_the_scope_cannot_be_left_out_or_overridden(connection: sa.Connection) -> None:
    stmt, params = MAILBOXES.bind(Scope("org_a"), scope_org_id="org_b")
    assert list(connection.scalars(stmt, params)) == ["ana@org_a.test", "bob@org_a.test"]
    with pytest.raises(StatementError, match="scope_org_id"):
        connection.scalars(stmt)
