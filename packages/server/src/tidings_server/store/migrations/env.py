"""Alembic environment: runs on the connection `store.migrate` hands it."""

from alembic import context

from tidings_server.store.models import Base

connection = context.config.attributes["connection"]


def _is_modelled(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Full-text search lives outside the ORM models (FTS5 tables, a tsvector column).
    return not (name or "").startswith(("message_search", "search_vector", "ix_messages_search"))


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=_is_modelled,
)
with context.begin_transaction():
    context.run_migrations()
