"""What the server reports: sessions, indexes, sizes, cache, top statements, SQLite files."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import Tag
from filemeta_gui.db.server_stats import (
    NO_SQLITE_INDEX_USAGE,
    NOT_INSTALLED,
    NOT_LOADED,
    collect,
)
from filemeta_gui.domain.monitoring import PostgresStats, SqliteStats


async def _add_tags(database: Database, count: int) -> None:
    async with database.session() as session:
        session.add_all(Tag(name=f"tag-{i}") for i in range(count))


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgres_sessions_indexes_sizes_and_cache(database: Database, db_url: str) -> None:
    await _add_tags(database, 3)
    # Someone else's connection to the same database: not one of this app's sessions.
    stranger = await asyncpg.connect(db_url, server_settings={"application_name": "not-filemeta"})
    try:
        before = database.monitor.snapshot()
        stats = await collect(database)
        after = database.monitor.snapshot()
    finally:
        await stranger.close()

    assert isinstance(stats, PostgresStats)
    assert stats.application_name == database.application_name
    assert stats.sessions and sum(s.is_self for s in stats.sessions) == 1
    assert stranger.get_server_pid() not in {s.pid for s in stats.sessions}

    indexes = {index.index: index for index in stats.indexes}
    assert indexes["ix_files_hash_value"].table == "files"
    assert not indexes["ix_files_hash_value"].unique
    assert indexes["pk_files"].unique and not indexes["pk_files"].unused
    assert all(index.size_bytes and index.size_bytes > 0 for index in stats.indexes)
    assert all(not index.unique and index.scans == 0 for index in stats.unused_indexes)

    tables = {table.table: table for table in stats.tables}
    assert {"files", "tags", "users"} <= set(tables)
    assert tables["tags"].total_bytes and tables["tags"].total_bytes > 0
    # pg_stat_* counters are flushed lazily (PostgreSQL 15): a fresh database may have none.
    assert stats.cache_hit_ratio is None or 0.0 <= stats.cache_hit_ratio <= 1.0
    assert after.queries == before.queries  # collecting is not part of the figures


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_pg_stat_statements_is_used_or_its_absence_said_plainly(
    database: Database,
) -> None:
    async with database.session() as session:
        preload = (await session.execute(text("SHOW shared_preload_libraries"))).scalar_one()
    loaded = "pg_stat_statements" in preload

    stats = await collect(database)
    assert isinstance(stats, PostgresStats)
    assert stats.notes == (NOT_INSTALLED,)
    assert stats.top_statements == ()

    async with database.session() as session:
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
    stats = await collect(database)
    assert isinstance(stats, PostgresStats)
    if loaded:
        assert stats.notes == () and stats.top_statements
    else:
        assert stats.notes == (NOT_LOADED,) and stats.top_statements == ()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_file_wal_pages_and_cache(database: Database) -> None:
    await _add_tags(database, 50)
    stats = await collect(database)

    assert isinstance(stats, SqliteStats)
    assert stats.path == str(database.sqlite_path)
    assert stats.journal_mode == "wal"
    assert stats.page_size in {512, 1024, 2048, 4096, 8192, 16384, 32768, 65536}
    assert stats.page_count > 0 and stats.file_bytes > 0
    assert stats.wal_bytes > 0  # the tags were written to the WAL, not yet checkpointed
    assert stats.free_bytes == stats.freelist_count * stats.page_size
    assert stats.cache_size_kib > 0 and stats.cache_size_pages > 0
    assert NO_SQLITE_INDEX_USAGE in stats.notes
    tables = {table.table for table in stats.tables}
    assert {"files", "tags", "users"} <= tables
    indexes = {index.index: index for index in stats.indexes}
    assert indexes["ix_files_hash_value"].scans is None
    assert not indexes["ix_files_hash_value"].unused  # unknown use is not "unused"
    if not [note for note in stats.notes if "dbstat" in note]:
        tags = next(table for table in stats.tables if table.table == "tags")
        assert tags.table_bytes and tags.table_bytes >= stats.page_size
