"""Schema migrations with Alembic, applied at start-up and by `tidings db upgrade`."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tidings_server.store.engine import create_sync_engine, is_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every Tidings process.
_PG_MIGRATION_LOCK = 7_700_2525


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; concurrent callers on PostgreSQL take turns."""
    if is_sqlite(database_url):
        Path(sa.make_url(database_url).database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = create_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            if not is_sqlite(database_url):
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            command.upgrade(_config(connection), revision)
    finally:
        engine.dispose()
