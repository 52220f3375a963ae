"""The tenant scope every repository requires: an organisation, and for agent keys an identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from tidings_server.store.models import TenantOwned

T = TypeVar("T", bound=TenantOwned)


@dataclass(frozen=True)
class Scope:
    """Whose data a query may touch. `identity_id` narrows it to one identity (agent keys)."""

    org_id: str
    identity_id: str | None = None

    def where(self, model: type[T]) -> list[sa.ColumnElement[bool]]:
        """The filter clauses that keep a query on `model` inside this scope."""
        clauses: list[sa.ColumnElement[bool]] = [_column(model, "org_id") == self.org_id]
        if self.identity_id is not None:
            column = model.__identity_column__
            if column is None:
                # Data that belongs to no identity is organisation-level: an agent sees none of it.
                clauses.append(sa.false())
            else:
                clauses.append(_column(model, column) == self.identity_id)
        return clauses

    def select(self, model: type[T]) -> sa.Select[T]:
        return sa.select(model).where(*self.where(model))


def _column(model: type[Any], name: str) -> sa.ColumnElement[Any]:
    column: sa.ColumnElement[Any] = getattr(model, name)
    return column
