"""The substring-search indexes on file names and paths, and switching them off for bulk loads.

Migration 0002 creates them (this module mirrors its DDL and 0006's; a test checks they
agree):

* SQLite: ``files_fts``, an FTS5 table with the trigram tokenizer over ``filename`` and
  ``file_path``. It is an *external content* table: it stores only the index and reads the
  text from ``files``, keyed on the implicit ``rowid`` of ``files`` (a rowid table, since
  its UUID key is not an INTEGER PRIMARY KEY). Three triggers keep it in sync.
* PostgreSQL: a ``pg_trgm`` GIN index on ``file_path`` (migration 0006 dropped the one on
  ``filename``). On the plain column (not ``lower(...)``) because ``gin_trgm_ops`` serves
  ``ILIKE`` directly.

A first scan of 100k+ files is several times faster when these are built once after the
load instead of row by row (DESIGN.md, issue 8): call :func:`suspend_search_index` before
and :func:`rebuild_search_index` after, in the same or a later transaction. While suspended,
SQLite search misses new and renamed files (PostgreSQL just gets slower), so a library left
suspended by a crash is repaired by :func:`ensure_search_index` when it is opened.

Keep the triggers in mind when writing to ``files`` on SQLite: ``INSERT OR REPLACE`` deletes
rows without firing the delete trigger (unless ``recursive_triggers`` is on) and would
corrupt the index — use ``INSERT ... ON CONFLICT DO UPDATE``. A batch migration that
rebuilds ``files`` drops the triggers and renumbers rowids: call ``rebuild`` after it.
SQLite documents that VACUUM *may* renumber such rowids too; the SQLite we run keeps them
(a test checks it, ``VACUUM INTO`` backups included).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

T = TypeVar("T")

FTS_TABLE = "files_fts"
FTS_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS files_fts USING fts5("
    "filename, file_path, content='files', content_rowid='rowid', tokenize='trigram')"
)
# External content tables are told about changes with the old values ('delete') and the
# new ones; the UPDATE trigger only fires when a searched column really changes, so
# upserts that rewrite every column leave the index alone.
FTS_TRIGGERS: dict[str, str] = {
    "files_fts_insert": (
        "CREATE TRIGGER IF NOT EXISTS files_fts_insert AFTER INSERT ON files BEGIN "
        "INSERT INTO files_fts(rowid, filename, file_path) "
        "VALUES (new.rowid, new.filename, new.file_path); END"
    ),
    "files_fts_delete": (
        "CREATE TRIGGER IF NOT EXISTS files_fts_delete AFTER DELETE ON files BEGIN "
        "INSERT INTO files_fts(files_fts, rowid, filename, file_path) "
        "VALUES ('delete', old.rowid, old.filename, old.file_path); END"
    ),
    "files_fts_update": (
        "CREATE TRIGGER IF NOT EXISTS files_fts_update AFTER UPDATE OF filename, file_path "
        "ON files WHEN old.filename IS NOT new.filename OR old.file_path IS NOT new.file_path "
        "BEGIN "
        "INSERT INTO files_fts(files_fts, rowid, filename, file_path) "
        "VALUES ('delete', old.rowid, old.filename, old.file_path); "
        "INSERT INTO files_fts(rowid, filename, file_path) "
        "VALUES (new.rowid, new.filename, new.file_path); END"
    ),
}
FTS_FILL = (
    "INSERT INTO files_fts(rowid, filename, file_path) "
    "SELECT rowid, filename, file_path FROM files ORDER BY rowid"
)
"""Index every row, read in rowid order. FTS5's own ``'rebuild'`` reads the rows in no
stated order, and SQLite reads them from the smallest index holding both columns, the
name order's (migration 0007): then rowids arrive shuffled and FTS5 writes many small
segments and merges them. Measured with every index in place: 2.3-2.5 s against
0.69-0.75 s per 100k rows, and 45.9 s against 18.4 s at 1M; the same index either way
(FTS5's integrity check passes)."""
FTS_HASHSIZE_DEFAULT = 1 << 20
FTS_FILL_HASHSIZE = 16 << 20
"""Bytes of new entries FTS5 gathers in memory before it writes them out as a segment
(its ``hashsize``; 1 MiB by default), while the index is filled. Fewer, bigger segments
leave less to merge: 100k rows in 0.42 s against 0.70 s, 1M in 12.1 s against 18.4 s (64
MiB: 11.4 s), with lookups as fast. Put back afterwards: other writes were not measured
with it."""
FTS_REBUILD = (
    f"INSERT INTO files_fts(files_fts, rank) VALUES ('hashsize', {FTS_FILL_HASHSIZE})",
    # Empty first: the index may hold rows that changed while it was suspended.
    "INSERT INTO files_fts(files_fts) VALUES ('delete-all')",
    FTS_FILL,
    f"INSERT INTO files_fts(files_fts, rank) VALUES ('hashsize', {FTS_HASHSIZE_DEFAULT})",
)

TRGM_INDEXES: dict[str, str] = {"ix_files_trgm_path": "file_path"}
"""Words are looked for in the path alone, which holds the name (migration 0006)."""

# Rows inserted after a GIN index exists wait in its "pending list" (up to 4 MB), which every
# search scans in full: measured at 100k rows, 500 extra pages and 2 ms per search instead of
# 0.1 ms. Flushing needs the index owner; for anyone else autovacuum does it later.
_FLUSH_PENDING = (
    "DO $$ BEGIN PERFORM gin_clean_pending_list('{name}'::regclass); "
    "EXCEPTION WHEN insufficient_privilege THEN NULL; END $$"
)


def trgm_index_sql(name: str, column: str) -> str:
    return f"CREATE INDEX IF NOT EXISTS {name} ON files USING gin ({column} gin_trgm_ops)"


# --- synchronous core (migrations, run_sync) ------------------------------------------------


def suspend_search_index_sync(connection: Connection) -> None:
    """Stop maintaining the search index row by row (before a bulk load).

    On PostgreSQL, dropping an index locks ``files`` against every other session until the
    transaction ends: use it for a first load, not while other clients are working.
    """
    if _is_sqlite(connection):
        for name in FTS_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in TRGM_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def rebuild_search_index_sync(connection: Connection, analyze: bool = True) -> None:
    """Build the search index from the current rows and maintain it again (idempotent).

    ``analyze=False`` leaves PostgreSQL's statistics to the caller: ``ANALYZE`` waits for
    every index being built on ``files``, so a caller building several at once runs it
    once after them all.
    """
    if _is_sqlite(connection):
        connection.exec_driver_sql(FTS_CREATE)
        # All in the caller's transaction: no write can slip in between the rebuild and
        # the triggers and go unindexed.
        for sql in FTS_REBUILD:
            connection.exec_driver_sql(sql)
        for sql in FTS_TRIGGERS.values():
            connection.exec_driver_sql(sql)
    else:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRGM_INDEXES.items():
            connection.exec_driver_sql(trgm_index_sql(name, column))
            connection.exec_driver_sql(_FLUSH_PENDING.format(name=name))
        if analyze:
            refresh_statistics_sync(connection)


def refresh_statistics_sync(connection: Connection) -> None:
    """PostgreSQL: fresh statistics after a bulk load, or the planner may keep estimating
    the table as empty and ignore the new indexes. SQLite's library is never analyzed."""
    if not _is_sqlite(connection):
        connection.exec_driver_sql("ANALYZE files")


def search_index_suspended_sync(connection: Connection) -> bool:
    """True when some part of the search index is missing (suspended or never built)."""
    if _is_sqlite(connection):
        names = set(FTS_TRIGGERS) | {FTS_TABLE}
        found = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
            "AND name LIKE 'files_fts%'"
        )
        return not names <= {row[0] for row in found}
    found = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'files'::regclass AND i.indisvalid"
    )
    return not set(TRGM_INDEXES) <= {row[0] for row in found}


def check_search_index_sync(connection: Connection) -> None:
    """Raise if the SQLite index disagrees with ``files`` (FTS5 'integrity-check').

    On PostgreSQL the indexes are maintained by the server; only their presence is checked.
    """
    if search_index_suspended_sync(connection):
        raise RuntimeError("The search index is suspended or missing.")
    if _is_sqlite(connection):
        # rank=1 compares the index with the content table, not only with itself.
        connection.exec_driver_sql(
            "INSERT INTO files_fts(files_fts, rank) VALUES ('integrity-check', 1)"
        )


# --- async API (services and the indexer) ---------------------------------------------------


async def suspend_search_index(connection: AsyncConnection | AsyncSession) -> None:
    await _run(connection, suspend_search_index_sync)


async def rebuild_search_index(
    connection: AsyncConnection | AsyncSession, analyze: bool = True
) -> None:
    await _run(connection, lambda sync: rebuild_search_index_sync(sync, analyze))


async def refresh_statistics(connection: AsyncConnection | AsyncSession) -> None:
    await _run(connection, refresh_statistics_sync)


async def search_index_suspended(connection: AsyncConnection | AsyncSession) -> bool:
    return await _run(connection, search_index_suspended_sync)


async def ensure_search_index(connection: AsyncConnection | AsyncSession) -> bool:
    """Rebuild the index if a bulk load left it suspended; True when it did."""
    if not await search_index_suspended(connection):
        return False
    await rebuild_search_index(connection)
    return True


async def check_search_index(connection: AsyncConnection | AsyncSession) -> None:
    await _run(connection, check_search_index_sync)


async def _run(
    connection: AsyncConnection | AsyncSession, function: Callable[[Connection], T]
) -> T:
    if isinstance(connection, AsyncSession):

        def _with_session(session: Session) -> T:
            return function(session.connection())

        return await connection.run_sync(_with_session)
    return await connection.run_sync(function)


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"
