"""PostgreSQL: name-order indexes that carry the path, for words walked in name order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

In name order, a page of a common word walks the name index until 201 entries match, and
PostgreSQL read each entry's table row to test the path: at 1M files the first matches of
``img`` are 169k entries down, which took 0.44-0.52 s, and ``src``, ``pdf`` or ``doc``
1.2 s. Its planner could also sort all matches instead, but that is no cheaper for
300k of them. A B-tree entry may not pass ~2.7 kB, so the path cannot simply join the
name index (migration 0007 says why). Two partial indexes split the rows by the length
of their path instead:

* ``ix_files_name_short_paths``: ``(filename, id, deleted_at) INCLUDE (file_path)`` for
  paths of at most 1,000 bytes (nearly all), walked without a table read;
* ``ix_files_name_long_paths``: ``(filename, id)`` for the longer ones, walked reading
  the table, as before.

A page merges the two walks (``keyset.short_path_statement``). At 1M files, first 201
matches: ``img`` 0.52 s → 70 ms, ``2019`` 228 → 23 ms, ``src`` 1.2 s → 0.18 s. The
first index takes 131 MB per million files and builds in 1.2-1.7 s; the second is nearly
empty. SQLite's name index already holds the path (0007): nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: this revision keeps doing what it did when the models change.
SHORT_PATH = "octet_length(file_path) <= 1000"
LONG_PATH = "octet_length(file_path) > 1000"
POSTGRESQL_UPGRADE = (
    "CREATE INDEX IF NOT EXISTS ix_files_name_short_paths ON files "
    f"(filename, id, deleted_at) INCLUDE (file_path) WHERE {SHORT_PATH}",
    "CREATE INDEX IF NOT EXISTS ix_files_name_long_paths ON files "
    f"(filename, id) WHERE {LONG_PATH}",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_files_name_long_paths",
    "DROP INDEX IF EXISTS ix_files_name_short_paths",
)


def _run(statements: Sequence[str]) -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    _run(POSTGRESQL_UPGRADE)


def downgrade() -> None:
    _run(POSTGRESQL_DOWNGRADE)
