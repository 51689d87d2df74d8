"""search indexes: FTS5 trigram on SQLite, pg_trgm GIN indexes on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Substring search on file names and paths through an index (issue 8). The DDL is written
out here rather than imported, so this revision keeps doing what it did when the app's
helpers (``filemeta_gui.db.search_index``) change; a test checks that the two agree.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# External content: the FTS table holds only the index, the text stays in ``files`` and is
# found through its implicit rowid (``files`` is a rowid table: its key is a UUID).
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5("
    "filename, file_path, content='files', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS files_fts_insert AFTER INSERT ON files BEGIN "
    "INSERT INTO files_fts(rowid, filename, file_path) "
    "VALUES (new.rowid, new.filename, new.file_path); END",
    "CREATE TRIGGER IF NOT EXISTS files_fts_delete AFTER DELETE ON files BEGIN "
    "INSERT INTO files_fts(files_fts, rowid, filename, file_path) "
    "VALUES ('delete', old.rowid, old.filename, old.file_path); END",
    # Only when a searched column really changes: upserts rewriting every column are free.
    "CREATE TRIGGER IF NOT EXISTS files_fts_update AFTER UPDATE OF filename, file_path "
    "ON files WHEN old.filename IS NOT new.filename OR old.file_path IS NOT new.file_path "
    "BEGIN "
    "INSERT INTO files_fts(files_fts, rowid, filename, file_path) "
    "VALUES ('delete', old.rowid, old.filename, old.file_path); "
    "INSERT INTO files_fts(rowid, filename, file_path) "
    "VALUES (new.rowid, new.filename, new.file_path); END",
    # Index the rows a library already has.
    "INSERT INTO files_fts(files_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS files_fts_update",
    "DROP TRIGGER IF EXISTS files_fts_delete",
    "DROP TRIGGER IF EXISTS files_fts_insert",
    "DROP TABLE IF EXISTS files_fts",
)

# Plain-column indexes: gin_trgm_ops answers ILIKE (and LIKE) directly, so queries need no
# lower() and the planner uses them for the parser's words and path: globs.
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_files_trgm_filename ON files USING gin (filename gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_files_trgm_path ON files USING gin (file_path gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_files_trgm_path",
    "DROP INDEX IF EXISTS ix_files_trgm_filename",
    # The extension may be used by something else in this database, or belong to another
    # role: then it stays (a failed DROP would abort the whole downgrade).
    "DO $$ BEGIN DROP EXTENSION IF EXISTS pg_trgm; "
    "EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN NULL; END $$",
)


def _run(statements: Sequence[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _run(SQLITE_UPGRADE)
    else:
        _run(POSTGRESQL_UPGRADE)


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        _run(SQLITE_DOWNGRADE)
    else:
        _run(POSTGRESQL_DOWNGRADE)
