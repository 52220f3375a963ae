"""search: the mailbox as an indexed FTS5 token on SQLite

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:20:00

The mailbox was an UNINDEXED column, so a search ranked every mailbox's matches before
keeping its own; as an indexed token (in the last column, so snippets never show it) FTS5
intersects it with the terms. PostgreSQL is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _rebuild(columns: str, copy: str) -> None:
    """Replace message_search with an FTS5 table of `columns`; `copy` selects the rowid and
    then a value for each column, in order."""
    names = ", ".join(column.split()[0] for column in columns.split(", "))
    op.execute(f"CREATE VIRTUAL TABLE message_search_next USING fts5({columns}, {TOKENIZE})")
    op.execute(f"INSERT INTO message_search_next (rowid, {names}) SELECT {copy}")
    op.execute("DROP TABLE message_search")
    op.execute("ALTER TABLE message_search_next RENAME TO message_search")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The token is the id without its `_` (store/repositories/search.py: mailbox_token).
    _rebuild(
        "message_id UNINDEXED, subject, addresses, body, attachment_names, mailbox",
        "rowid, message_id, subject, addresses, body, attachment_names, "
        "replace(mailbox_id, '_', '') FROM message_search",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(
        "message_id UNINDEXED, mailbox_id UNINDEXED, subject, addresses, body, attachment_names",
        "s.rowid, s.message_id, m.mailbox_id, s.subject, s.addresses, s.body, "
        "s.attachment_names FROM message_search s JOIN messages m ON m.id = s.message_id",
    )
