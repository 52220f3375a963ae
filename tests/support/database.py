"""Databases for tests: SQLite files, and PostgreSQL databases cloned from a migrated template."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tidings_server.store import migrate

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("TIDINGS_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates one migrated template per test session and a cheap copy of it per test."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template: str | None = None
        self.problem: str | None = None

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(_libpq(self.admin_url), autocommit=True, connect_timeout=5)

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _ensure_template(self) -> str:
        if self.template is not None:
            return self.template
        if self.problem is not None:
            pytest.skip(self.problem)
        name = f"tidings_tpl_{uuid.uuid4().hex[:10]}"
        try:
            with self._admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            self.problem = f"PostgreSQL is not reachable at {self.admin_url}: {exc}"
            pytest.skip(self.problem)
        migrate.upgrade(self.url_for(name))
        self.template = name
        return name

    @contextmanager
    def fresh_postgres(self) -> Iterator[str]:
        with self._database(self._ensure_template()) as url:
            yield url

    @contextmanager
    def empty_postgres(self) -> Iterator[str]:
        """A database without tables, for migrations that must start from an older schema."""
        self._ensure_template()  # skips the test as it would if PostgreSQL were missing
        with self._database("template0") as url:
            yield url

    @contextmanager
    def _database(self, template: str) -> Iterator[str]:
        name = f"tidings_t_{uuid.uuid4().hex[:12]}"
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield self.url_for(name)
        finally:
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self.template is not None:
            with self._admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')

    @contextmanager
    def refusing_connections(self, url: str) -> Iterator[None]:
        """The database at `url` turns every connection away (and drops the open ones)."""
        name = make_url(url).database
        with self._admin() as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        try:
            yield
        finally:
            with self._admin() as admin:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
