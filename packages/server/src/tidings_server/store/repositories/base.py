"""The scoped repository base class and keyset pagination over time-sortable ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.orm.interfaces import ORMOption

from tidings_server.store.inserts import insert_rows
from tidings_server.store.models import TenantOwned
from tidings_server.store.scope import Scope

T = TypeVar("T", bound=TenantOwned)
Item = TypeVar("Item")
S = TypeVar("S", bound=sa.Select[Any])
IdColumn = sa.ColumnElement[str] | QueryableAttribute[str]


@dataclass(frozen=True)
class PageRequest:
    """A page of a list, newest first: at most `limit` rows with ids below `before_id`."""

    limit: int
    before_id: str | None = None


@dataclass(frozen=True)
class Page(Generic[Item]):
    items: list[Item]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        return str(getattr(self.items[-1], "id")) if self.items else None  # noqa: B009


def keyset(stmt: S, id_column: IdColumn, request: PageRequest) -> S:
    """`stmt` narrowed to the requested page: ids below the cursor, newest first, and one row
    more than the page holds, which tells whether another page follows."""
    if request.before_id is not None:
        stmt = stmt.where(id_column < request.before_id)
    return stmt.order_by(id_column.desc()).limit(request.limit + 1)


def bound_keyset(stmt: S, id_column: IdColumn, *, after_cursor: bool) -> S:
    """`keyset` for a statement built once: the cursor (`before_id`) and the row count
    (`rows`) are bind parameters, which `keyset_params` fills for a request."""
    if after_cursor:
        stmt = stmt.where(id_column < sa.bindparam("before_id"))
    return stmt.order_by(id_column.desc()).limit(sa.bindparam("rows", type_=sa.Integer))


def keyset_params(request: PageRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"rows": request.limit + 1}
    if request.before_id is not None:
        params["before_id"] = request.before_id
    return params


class ClaimQuery:
    """A SELECT of queued rows for a worker to lease, built once (its values are bind
    parameters: workers poll it several times a second). On PostgreSQL it locks the rows it
    returns and skips those another process holds, so processes claim different rows;
    SQLite has one writer at a time, and no row locks."""

    def __init__(self, stmt: sa.Select[*tuple[Any, ...]], **lock: Any) -> None:
        self._plain = stmt
        self._locking = stmt.with_for_update(skip_locked=True, **lock)

    def stmt(self, session: AsyncSession) -> sa.Select[*tuple[Any, ...]]:
        return self._locking if session.get_bind().dialect.name == "postgresql" else self._plain


async def plain_rows(
    session: AsyncSession, stmt: sa.Select[Any], params: dict[str, Any]
) -> Sequence[sa.Row[Any]]:
    """Rows of plain columns, read on the unit of work's connection past the ORM, whose
    result machinery costs more than the query for such rows (half of a fifty-row page).
    Pending changes are flushed first, as `session.execute` would."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    rows: Sequence[sa.Row[Any]] = (await connection.execute(stmt, params)).all()
    return rows


class ScopedRepository(Generic[T]):
    """Queries on one tenant model. The scope filter is applied by `_select`, never by callers."""

    model: type[T]

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    def _select(self) -> sa.Select[T]:
        return self.scope.select(self.model)

    def _id(self) -> sa.ColumnElement[str]:
        column: sa.ColumnElement[str] = getattr(self.model, "id")  # noqa: B009
        return column

    async def get(self, id_: str) -> T | None:
        row: T | None = await self.session.scalar(
            self._loading(self._select().where(self._id() == id_))
        )
        return row

    async def page(
        self,
        request: PageRequest,
        *filters: sa.ColumnElement[bool],
        options: Sequence[ORMOption] = (),
    ) -> Page[T]:
        stmt = keyset(self._select().where(*filters).options(*options), self._id(), request)
        rows = list(await self.session.scalars(self._loading(stmt)))
        return Page(items=rows[: request.limit], has_more=len(rows) > request.limit)

    def _loading(self, stmt: sa.Select[T]) -> sa.Select[T]:
        """Hook for repositories whose rows are always returned with relationships loaded."""
        return stmt

    def add(self, row: T) -> T:
        self._check_in_scope(row)
        self.session.add(row)
        return row

    async def insert(self, rows: Sequence[T]) -> None:
        """Write new, complete rows now, without the ORM's flush (see `store.inserts`)."""
        for row in rows:
            self._check_in_scope(row)
        await insert_rows(self.session, rows)

    async def delete(self, row: T) -> None:
        self._check_in_scope(row)
        await self.session.delete(row)

    def _check_in_scope(self, row: Any) -> None:
        if row.org_id != self.scope.org_id:
            raise PermissionError("row belongs to another organisation")
        column = self.model.__identity_column__
        if self.scope.identity_id is not None and (
            column is None or getattr(row, column) != self.scope.identity_id
        ):
            raise PermissionError("row belongs to another identity")
