"""search: on PostgreSQL every indexed word carries a tag of its mailbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00

Search terms are prefixes, and GIN answers a prefix by gathering the matches of every word
that starts with it, in every mailbox, before the index's mailbox column narrows them: over
a million messages in 20 mailboxes `alpha5` gathered 109,000 matches (33 ms) to keep 5,740,
and at the default `work_mem` the gathered bitmap went lossy and as many rows again were
read and thrown away. Each lexeme is now stored as two characters of its mailbox's id
followed by the word (`tidings_search_words`), and a query's lexemes get the same two
characters (`tidings_search_query`), so a prefix gathers only its mailbox's matches, and
those of the few mailboxes that share the tag. The tag only narrows: every search still
names its mailbox, so a shared tag costs time, never a wrong result.

A lexeme may be 2,046 bytes; the few within two bytes of that are left out of the index
rather than refused. A text vector holds at most 1 MB of words and positions; a vector
the tags would push past that keeps its words without their positions (ranked without
weights). The indexed parts' bounds (`INDEXED_CHARS`) keep text under it: their 200,000
characters as distinct one-character words, the worst case, make 1.0 MB with the tags.

Rewrites every message's vector once (about three minutes per million messages), then
gathers fresh statistics: the planner's estimate of a term's matches is now per mailbox.
SQLite is unchanged: its FTS5 entries carry the mailbox as a token of their own.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tag is the last two characters of the mailbox's id (random, lower-case base 32).
# A lexeme's text form is quoted (`'word':1A,5`); no lexeme holds a space, since the
# parser splits words at white space, so a quote at the start or after a space opens one.
# A lexeme may hold 2,046 bytes, so the tag needs two of them. A vector's words and
# positions may fill 1 MB: its size less the 4-byte entry of each word, plus 2 bytes of
# tag a word, must stay under that, or the positions go.
FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION tidings_search_words(words tsvector, mailbox_id text)
RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(
        CASE WHEN pg_column_size(kept) - 2 * length(kept) < 1048000 THEN kept
            ELSE strip(kept) END::text,
        '(^| )''', '\1''' || right(mailbox_id, 2), 'g')::tsvector
    FROM ts_delete(words, ARRAY(
        SELECT lexeme FROM unnest(words) WHERE octet_length(lexeme) > 2044)) AS kept
$$;
CREATE OR REPLACE FUNCTION tidings_search_query(query tsquery, mailbox_id text)
RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(query::text, '(^|[ (!])''', '\1''' || right(mailbox_id, 2), 'g')
        ::tsquery
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    op.execute(
        "UPDATE messages SET search_vector = tidings_search_words(search_vector, mailbox_id) "
        "WHERE search_vector IS NOT NULL"
    )
    op.execute("ANALYZE messages")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE messages SET search_vector = "
        "regexp_replace(search_vector::text, '(^| )''..', '\\1''', 'g')::tsvector "
        "WHERE search_vector IS NOT NULL"
    )
    op.execute("DROP FUNCTION tidings_search_query(tsquery, text)")
    op.execute("DROP FUNCTION tidings_search_words(tsvector, text)")
