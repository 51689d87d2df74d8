"""What the server itself says: sessions, index use, sizes, cache, top statements.

PostgreSQL answers from its statistics views; they are flushed lazily (PostgreSQL 15), so
a figure may lag the last few seconds. SQLite has no such views: the file, its WAL and its
pragmas are what there is. Everything here is the panel's own work and runs
``unmonitored()``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from filemeta_gui.db.errors import _sqlstate, translate_error
from filemeta_gui.db.query_context import unmonitored
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.monitoring import (
    IndexUsage,
    PostgresStats,
    ServerSession,
    SqliteStats,
    TableSize,
    TopStatement,
)

if TYPE_CHECKING:
    from filemeta_gui.db.engine import Database

TOP_STATEMENTS = 20
NOT_INSTALLED = "pg_stat_statements is not installed on this server"
NOT_LOADED = (
    "pg_stat_statements is installed in this database but the server does not load it: "
    "add it to shared_preload_libraries in postgresql.conf and restart PostgreSQL"
)
NO_SQLITE_INDEX_USAGE = "SQLite does not count index use; the plans of slow queries show it"

_SESSIONS = """
SELECT pid, usename, state, left(query, 2000), backend_start, query_start,
       wait_event_type || ': ' || wait_event, pid = pg_backend_pid()
FROM pg_stat_activity
WHERE application_name = $1 AND datname = current_database()
ORDER BY backend_start
"""
_INDEXES = """
SELECT s.relname, s.indexrelname, s.idx_scan, pg_relation_size(s.indexrelid),
       i.indisunique OR i.indisprimary, s.idx_tup_read
FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
ORDER BY s.relname, s.indexrelname
"""
_TABLES = """
SELECT relname, n_live_tup, pg_table_size(relid), pg_indexes_size(relid),
       pg_total_relation_size(relid), seq_scan, idx_scan
FROM pg_stat_user_tables
ORDER BY pg_total_relation_size(relid) DESC, relname
"""
_CACHE = """
SELECT blks_hit, blks_read, stats_reset FROM pg_stat_database WHERE datname = current_database()
"""
_TOP = """
SELECT query, calls, total_exec_time, mean_exec_time, rows
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC
LIMIT $1
"""
_SQLITE_PRAGMAS = ("page_count", "page_size", "freelist_count", "cache_size", "journal_mode")
_OBJECT_NOT_IN_PREREQUISITE_STATE = "55000"  # "must be loaded via shared_preload_libraries"


async def collect(database: Database) -> PostgresStats | SqliteStats:
    """The server's figures for ``database``, whichever backend it is on."""
    try:
        with unmonitored():
            if database.is_sqlite:
                return await sqlite_stats(database)
            return await postgres_stats(database)
    except FileMetaError:
        raise
    except Exception as error:
        raise translate_error(error, database.name) from error


async def postgres_stats(database: Database, *, top: int = TOP_STATEMENTS) -> PostgresStats:
    with unmonitored():
        async with database.engine.connect() as connection:
            sessions = await _rows(connection, _SESSIONS, database.application_name)
            indexes = await _rows(connection, _INDEXES)
            tables = await _rows(connection, _TABLES)
            hit, read, reset = (await _rows(connection, _CACHE))[0]
        top_statements, note = await top_postgres_statements(database, top)
    requests = (hit or 0) + (read or 0)
    return PostgresStats(
        application_name=database.application_name,
        sessions=tuple(_session(row) for row in sessions),
        indexes=tuple(_index(row) for row in indexes),
        tables=tuple(TableSize(*r) for r in tables),
        cache_hit_ratio=(hit / requests) if requests else None,
        top_statements=top_statements,
        notes=(note,) if note else (),
        stats_reset=reset,
    )


def _session(row: Any) -> ServerSession:
    pid, user, state, query, backend_start, query_start, wait_event, is_self = row
    return ServerSession(
        pid=pid,
        user=user,
        state=state,
        query=query or "",
        backend_start=backend_start,
        query_start=query_start,
        wait_event=wait_event,
        is_self=bool(is_self),
    )


def _index(row: Any) -> IndexUsage:
    table, index, scans, size, unique, tuples_read = row
    return IndexUsage(table, index, scans, size, unique=bool(unique), tuples_read=tuples_read)


async def top_postgres_statements(
    database: Database, limit: int = TOP_STATEMENTS
) -> tuple[tuple[TopStatement, ...], str | None]:
    """The statements of this database that took the most time, or a note why there are none.

    Runs on a connection of its own: when the extension exists but the server did not
    preload it, the query fails and that failure must not abort anything else.
    """
    with unmonitored():
        async with database.engine.connect() as connection:
            installed = await _rows(
                connection, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
            )
            if not installed:
                return (), NOT_INSTALLED
            try:
                rows = await _rows(connection, _TOP, limit)
            except Exception as error:
                if _sqlstate(error) == _OBJECT_NOT_IN_PREREQUISITE_STATE:
                    return (), NOT_LOADED
                raise
    return tuple(
        TopStatement(query=r[0], calls=r[1], total_ms=r[2], mean_ms=r[3], rows=r[4]) for r in rows
    ), None


async def sqlite_stats(database: Database) -> SqliteStats:
    path = database.sqlite_path
    assert path is not None
    with unmonitored():
        async with database.engine.connect() as connection:
            pragmas = {
                name: (await _rows(connection, f"PRAGMA {name}"))[0][0] for name in _SQLITE_PRAGMAS
            }
            sizes, notes = await _sqlite_sizes(connection)
    page_size = int(pragmas["page_size"])
    cache_size = int(pragmas["cache_size"])
    # A negative cache_size is a size in KiB; a positive one a number of pages.
    cache_kib = -cache_size if cache_size < 0 else cache_size * page_size // 1024
    cache_pages = cache_size if cache_size > 0 else cache_kib * 1024 // page_size
    return SqliteStats(
        path=str(path),
        file_bytes=_file_size(path),
        wal_bytes=_file_size(path.with_name(path.name + "-wal")),
        page_count=int(pragmas["page_count"]),
        page_size=page_size,
        freelist_count=int(pragmas["freelist_count"]),
        cache_size_pages=cache_pages,
        cache_size_kib=cache_kib,
        journal_mode=str(pragmas["journal_mode"]),
        tables=sizes[0],
        indexes=sizes[1],
        notes=(NO_SQLITE_INDEX_USAGE, *notes),
    )


async def _sqlite_sizes(
    connection: AsyncConnection,
) -> tuple[tuple[tuple[TableSize, ...], tuple[IndexUsage, ...]], tuple[str, ...]]:
    """Table and index sizes from the ``dbstat`` table, when SQLite was built with it."""
    objects = await _rows(
        connection,
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_stat%'",
    )
    try:
        measured = dict(
            await _rows(connection, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        )
        note: tuple[str, ...] = ()
    except Exception:
        measured, note = {}, ("This SQLite has no dbstat table: sizes per table are unknown",)
    index_bytes: dict[str, int] = {}
    indexes = []
    for kind, name, table, sql in objects:
        if kind == "index":
            size = measured.get(name)
            index_bytes[table] = index_bytes.get(table, 0) + int(size or 0)
            # Indexes without SQL are the ones SQLite made for UNIQUE/PRIMARY KEY constraints.
            unique = sql is None or sql.upper().startswith("CREATE UNIQUE")
            indexes.append(IndexUsage(table, name, None, size, unique=unique))
    tables = []
    for kind, name, _table, _sql in objects:
        if kind == "table":
            size, in_indexes = measured.get(name), index_bytes.get(name, 0)
            total = None if size is None else int(size) + in_indexes
            tables.append(TableSize(name, None, size, in_indexes if measured else None, total))
    tables.sort(key=lambda t: (-(t.total_bytes or 0), t.table))
    return (tuple(tables), tuple(indexes)), note


async def _rows(connection: AsyncConnection, sql: str, *params: Any) -> list[Any]:
    result = await connection.exec_driver_sql(sql, params)
    return list(result.all())


def _file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
