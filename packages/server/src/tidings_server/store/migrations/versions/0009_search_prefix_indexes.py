"""search: FTS5 prefix indexes on SQLite

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:40:00

Every search term longer than one character is a prefix. Without a prefix index FTS5 answers
one by merging the lists of every word that starts with it, across all mailboxes, and bm25
does so again to weigh the term: over a million messages a common prefix cost 100 ms or more
before any ranking. With prefixes of two to seven characters indexed, such a term is one list
read; longer prefixes are shared by few words, so their merge stays small. The index grows
(about 0.5 GB per million short messages) and each stored message adds a little more to it.
PostgreSQL is unchanged: its GIN index answers prefixes from its sorted keys.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = "message_id UNINDEXED, subject, addresses, body, attachment_names, mailbox"
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _rebuild(options: str) -> None:
    """Replace message_search with the same table made with `options`, keeping rowids (their
    order is the order messages were stored in, which search's window relies on)."""
    op.execute(f"CREATE VIRTUAL TABLE message_search_next USING fts5({COLUMNS}, {options})")
    op.execute(
        "INSERT INTO message_search_next "
        "(rowid, message_id, subject, addresses, body, attachment_names, mailbox) "
        "SELECT rowid, message_id, subject, addresses, body, attachment_names, mailbox "
        "FROM message_search"
    )
    op.execute("DROP TABLE message_search")
    op.execute("ALTER TABLE message_search_next RENAME TO message_search")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(f"{TOKENIZE}, prefix = '2 3 4 5 6 7'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(TOKENIZE)
