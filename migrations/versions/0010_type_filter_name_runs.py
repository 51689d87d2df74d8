"""A type filter in name order reads one ordered range per type

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

A type filter in name order walked the name index, testing the type inside it, until
201 entries matched. Matches cluster in name order (camera names, extensions): at 1M
files the first video is 400k entries down, so ``type:video`` took 42-52 ms a page on both
backends, ``type:image`` 15-20. ``ix_files_type_name``, ``(content_type, filename, id,
deleted_at)`` of the live files, holds each type's files in name order: a page walks each
type's range to its first 201 entries and merges them (``keyset.type_runs_statement``).
``deleted_at``, always NULL there, is in it because SQLite reads a partial index as
covering only when it holds the columns of its condition (PostgreSQL reads it whole
without, but the same index on both keeps one model). At 1M files it takes 78 MB on
PostgreSQL and builds in 1.6 s on either backend.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported: this revision keeps doing what it did when the models change.
INDEX = "ix_files_type_name"
LIVE = "deleted_at IS NULL"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "files",
        ["content_type", "filename", "id", "deleted_at"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="files")
