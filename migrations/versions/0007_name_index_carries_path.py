"""SQLite: the name order's index carries the path, so words are tested inside it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

A word is looked for in the path (migration 0006). In name order, the first page of a
common word walks the name index until 201 entries match. Without the path in the index,
each entry passed costs a table read; at 1M files the matches of ``img`` start 169k
entries down, so SQLite built the set of all 193k FTS5 matches instead and tested each
entry against it: 150-230 ms a page. ``ix_files_sort_filename_path`` replaces
``ix_files_sort_filename`` with the path as its last column, and ``LIKE`` tests each
entry inside the index (~0.3 us). Single statements at 1M files, the first 201 matches:
``img`` in 57 ms, ``2019`` in 25 ms, ``beach`` in 1.3 ms, and ``20`` (two characters,
which no index knows) in 32 ms. The index grows from 82 to 147 MB per million files.

PostgreSQL keeps the index as it was. Its B-tree entries may not pass ~2.7 kB, and a path
of up to 2,600 bytes (the indexer's limit) beside a 255-character name could; an
``INCLUDE (file_path)`` would be bound by the same limit. (An index-only walk with
``ILIKE`` measured 310-370 ms for ``img`` there, against 700-880 ms reading the table.)
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: this revision keeps doing what it did when the models change.
NAME_ORDER = ["filename", "id", "content_type", "extension", "deleted_at"]
BEFORE = ("ix_files_sort_filename", NAME_ORDER)
AFTER = ("ix_files_sort_filename_path", [*NAME_ORDER, "file_path"])


def _replace(old: tuple[str, list[str]], new: tuple[str, list[str]]) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.drop_index(old[0], table_name="files")
    op.create_index(new[0], "files", new[1])


def upgrade() -> None:
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    _replace(AFTER, BEFORE)
