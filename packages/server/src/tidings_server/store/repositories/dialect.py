"""INSERT ... ON CONFLICT for whichever engine the session is bound to."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, table: Any) -> Any:
    """An `insert` construct with `on_conflict_do_*` for the session's dialect."""
    return _insert(session.get_bind().dialect.name, table)


def insert_or_ignore(session: AsyncSession, table: Any) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for the session's dialect, built once per dialect
    and table: sends run one each, and a statement built anew computes its cache key again."""
    return _ignoring(session.get_bind().dialect.name, table)


def _insert(dialect: str, table: Any) -> Any:
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


@cache
def _ignoring(dialect: str, table: Any) -> Any:
    return _insert(dialect, table).on_conflict_do_nothing()
