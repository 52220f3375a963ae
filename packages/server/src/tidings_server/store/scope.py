"""The tenant scope every repository requires: an organisation, and for agent keys an identity.

`Scope.where` filters with the scope's values in place. `ScopedQuery` is for the hottest
queries: it builds the statement once per kind of scope, with the scope as bind parameters,
because building a SELECT in Python costs more than running it on an indexed lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, TypeVarTuple

import sqlalchemy as sa

from tidings_server.store.models import TenantOwned

T = TypeVar("T", bound=TenantOwned)
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class Scope:
    """Whose data a query may touch. `identity_id` narrows it to one identity (agent keys)."""

    org_id: str
    identity_id: str | None = None

    def where(self, model: type[T]) -> list[sa.ColumnElement[bool]]:
        """The filter clauses that keep a query on `model` inside this scope."""
        return _clauses(model, self.org_id, self.identity_id)

    def select(self, model: type[T]) -> sa.Select[T]:
        return sa.select(model).where(*self.where(model))

    @property
    def params(self) -> dict[str, str]:
        """The values `BoundScope`'s clauses take at execution."""
        if self.identity_id is None:
            return {_ORG: self.org_id}
        return {_ORG: self.org_id, _IDENTITY: self.identity_id}


_ORG, _IDENTITY = "scope_org_id", "scope_identity_id"


@dataclass(frozen=True)
class BoundScope:
    """A kind of scope (organisation, or organisation and identity) with its values unbound."""

    narrowed: bool  # to one identity

    def where(self, model: type[T]) -> list[sa.ColumnElement[bool]]:
        identity: Any = sa.bindparam(_IDENTITY) if self.narrowed else None
        return _clauses(model, sa.bindparam(_ORG), identity)


class ScopedQuery(Generic[*Ts]):
    """A statement built once per kind of scope; `bind` pairs it with a scope's parameters.

    `build` gets a `BoundScope` and must filter every tenant table it reads through it; the
    other values it needs are named bind parameters the caller passes to `bind`. A statement
    run without the scope's parameters fails: it cannot run unscoped.
    """

    def __init__(self, build: Callable[[BoundScope], sa.Select[*Ts]]) -> None:
        self._build = build
        self._built: dict[bool, sa.Select[*Ts]] = {}

    def bind(self, scope: Scope, **params: Any) -> tuple[sa.Select[*Ts], dict[str, Any]]:
        narrowed = scope.identity_id is not None
        stmt = self._built.get(narrowed)
        if stmt is None:
            stmt = self._built[narrowed] = self._build(BoundScope(narrowed))
        return stmt, {**params, **scope.params}


def _clauses(model: type[T], org_id: Any, identity_id: Any) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [_column(model, "org_id") == org_id]
    if identity_id is not None:
        column = model.__identity_column__
        if column is None:
            # Data that belongs to no identity is organisation-level: an agent sees none of it.
            clauses.append(sa.false())
        else:
            clauses.append(_column(model, column) == identity_id)
    return clauses


def _column(model: type[Any], name: str) -> sa.ColumnElement[Any]:
    column: sa.ColumnElement[Any] = getattr(model, name)
    return column
