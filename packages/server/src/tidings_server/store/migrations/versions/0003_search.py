"""search: FTS5 on SQLite, a weighted tsvector on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5("
            "message_id UNINDEXED, mailbox_id UNINDEXED, subject, addresses, body, "
            "attachment_names, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.add_column("messages", sa.Column("search_vector", postgresql.TSVECTOR()))
        op.create_index(
            "ix_messages_search_vector", "messages", ["search_vector"], postgresql_using="gin"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE message_search")
    else:
        op.drop_index("ix_messages_search_vector", table_name="messages")
        op.drop_column("messages", "search_vector")
