"""drop the trigram index on file names: words are looked for in the path alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

A file's name is the last part of its path, so a word found in the name is always found
in the path, and the search (``repositories/query_sql.py``) now tests ``file_path`` alone.
On PostgreSQL that leaves ``ix_files_trgm_filename`` unused while every insert still
maintains it, and building it cost a first scan 4.5 s per million files. SQLite keeps its
FTS5 table as it is: one over ``file_path`` alone took 2.5x longer to build (0.70 s against
2.0 s per 100k files) for no gain in search.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_UPGRADE = ("DROP INDEX IF EXISTS ix_files_trgm_filename",)
POSTGRESQL_DOWNGRADE = (
    "CREATE INDEX IF NOT EXISTS ix_files_trgm_filename ON files USING gin (filename gin_trgm_ops)",
)


def _run(statements: Sequence[str]) -> None:
    if op.get_context().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade() -> None:
    _run(POSTGRESQL_UPGRADE)


def downgrade() -> None:
    _run(POSTGRESQL_DOWNGRADE)
