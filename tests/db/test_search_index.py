"""Migrations 0002 and 0006 and the search-index helpers for bulk loads, on both backends."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from filemeta_gui.db.engine import Database
from filemeta_gui.db.migrate import run_command
from filemeta_gui.db.models import Base, File
from filemeta_gui.db.schema_filter import include_object_for
from filemeta_gui.db.search_index import (
    FTS_FILL,
    FTS_HASHSIZE_DEFAULT,
    FTS_TRIGGERS,
    check_search_index,
    ensure_search_index,
    rebuild_search_index,
    search_index_suspended,
    suspend_search_index,
)
from filemeta_gui.repositories.query_sql import search_condition
from tests.support.backends import only_postgresql, only_sqlite


def _row(path: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "filename": path.rsplit("/", 1)[-1],
        "file_path": path,
        "file_size": 1,
        "content_type": "text/plain",
        "extension": "txt",
        "mtime_ns": 0,
    }


async def _insert(database: Database, *paths: str) -> None:
    async with database.session() as session:
        await session.execute(sa.insert(File), [_row(path) for path in paths])


async def _find(database: Database, query: str) -> set[str]:
    condition = search_condition(query, database.backend)
    async with database.session() as session:
        return set((await session.scalars(sa.select(File.file_path).where(condition))).all())


def _search_objects(connection: Connection) -> dict[str, str]:
    """Name → definition of every search-index object in the database."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'files\\_fts%' ESCAPE '\\'"
        )
    else:
        rows = connection.exec_driver_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix\\_files\\_trgm%' "
            "UNION ALL SELECT extname, extname FROM pg_extension WHERE extname = 'pg_trgm'"
        )
    return {name: sql or "" for name, sql in rows}


async def _objects(database: Database) -> dict[str, str]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_search_objects)


EXPECTED = {
    "sqlite": {
        "files_fts",
        "files_fts_data",
        "files_fts_idx",
        "files_fts_docsize",
        "files_fts_config",
        "files_fts_insert",
        "files_fts_update",
        "files_fts_delete",
    },
    "postgresql": {"ix_files_trgm_path", "pg_trgm"},
}


@only_postgresql
async def test_migration_0006_drops_the_name_index_and_0005_has_it(
    empty_db_url: str, backend: str
) -> None:
    database = await Database.open(empty_db_url, upgrade=False)
    try:
        await run_command(database, "upgrade", "0005")
        before = set(await _objects(database))
        assert before == EXPECTED[backend] | {"ix_files_trgm_filename"}
        await _insert(database, "/names/Cathedral.jpg")
        await run_command(database, "upgrade", "head")
        assert set(await _objects(database)) == EXPECTED[backend]
        assert await _find(database, "cathedral") == {"/names/Cathedral.jpg"}
        await run_command(database, "downgrade", "0005")
        assert set(await _objects(database)) == before
    finally:
        await database.dispose()


async def test_migration_cycle_empty_head_base_head(empty_db_url: str, backend: str) -> None:
    database = await Database.open(empty_db_url, upgrade=False)
    try:
        await run_command(database, "upgrade", "head")
        assert set(await _objects(database)) == EXPECTED[backend]
        await run_command(database, "downgrade", "base")
        assert await _objects(database) == {}
        await run_command(database, "upgrade", "head")
        assert set(await _objects(database)) == EXPECTED[backend]
        await _insert(database, "/cycle/after.txt")
        assert await _find(database, "after") == {"/cycle/after.txt"}
    finally:
        await database.dispose()


@only_postgresql
async def test_downgrade_leaves_pg_trgm_that_others_use(empty_db_url: str, backend: str) -> None:
    database = await Database.open(empty_db_url)
    try:
        async with database.session() as session:
            await session.execute(
                sa.text("CREATE INDEX ix_other ON tags USING gin (name gin_trgm_ops)")
            )
        await run_command(database, "downgrade", "0001")
        assert set(await _objects(database)) == {"pg_trgm"}
        await run_command(database, "upgrade", "head")
        assert set(await _objects(database)) == EXPECTED[backend]
    finally:
        await database.dispose()


async def test_upgrade_indexes_files_already_in_the_library(empty_db_url: str) -> None:
    database = await Database.open(empty_db_url, upgrade=False)
    try:
        await run_command(database, "upgrade", "0001")
        await _insert(database, "/old/library/Cathedral.jpg", "/old/library/notes.txt")
        await run_command(database, "upgrade", "head")
        assert await _find(database, "cathedral") == {"/old/library/Cathedral.jpg"}
        assert await _find(database, "library") == {
            "/old/library/Cathedral.jpg",
            "/old/library/notes.txt",
        }
        async with database.session() as session:
            await check_search_index(session)
    finally:
        await database.dispose()


async def test_rebuild_recreates_exactly_what_the_migration_made(database: Database) -> None:
    made_by_migration = await _objects(database)
    async with database.session() as session:
        await suspend_search_index(session)
        assert await search_index_suspended(session)
    suspended = await _objects(database)
    assert not set(suspended) >= set(made_by_migration)
    async with database.session() as session:
        await rebuild_search_index(session)
        assert not await search_index_suspended(session)
    assert await _objects(database) == made_by_migration


async def test_bulk_load_with_the_index_suspended(database: Database) -> None:
    await _insert(database, "/bulk/first.txt")
    async with database.session() as session:
        await suspend_search_index(session)
    await _insert(database, *(f"/bulk/loaded-{n:04d}.txt" for n in range(500)))
    if database.is_sqlite:
        # Nothing maintains the FTS table now: new rows are invisible to word search.
        assert await _find(database, "loaded-0042") == set()
    async with database.session() as session:
        assert await ensure_search_index(session) is True
    assert await _find(database, "loaded-0042") == {"/bulk/loaded-0042.txt"}
    assert len(await _find(database, "loaded")) == 500
    async with database.session() as session:
        assert await ensure_search_index(session) is False
        await check_search_index(session)


@only_sqlite
async def test_rebuild_forgets_what_changed_while_suspended(database: Database) -> None:
    await _insert(database, "/drift/before.txt", "/drift/kept.txt")
    async with database.session() as session:
        await suspend_search_index(session)
        renamed = sa.update(File).where(File.file_path == "/drift/before.txt")
        await session.execute(renamed.values(filename="after.txt", file_path="/drift/after.txt"))
        await rebuild_search_index(session)
        await check_search_index(session)  # an entry left for "before" fails it
    assert await _find(database, "before") == set()
    assert await _find(database, "after") == {"/drift/after.txt"}
    assert await _find(database, "drift") == {"/drift/after.txt", "/drift/kept.txt"}


@only_sqlite
async def test_rebuild_reads_the_rows_in_rowid_order(database: Database) -> None:
    """Through an index holding the name and the path, rowids would reach FTS5 shuffled
    (name order), and the build would take three times as long (``FTS_FILL``)."""
    select = FTS_FILL[FTS_FILL.index("SELECT") :]
    async with database.engine.connect() as connection:
        plan = (await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {select}")).all()
        indexes = (
            await connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'files'"
            )
        ).scalars()
    assert any(sql and "filename" in sql and "file_path" in sql for sql in indexes)
    assert [row[-1] for row in plan] == ["SCAN files"]


@only_sqlite
async def test_rebuild_puts_back_the_default_hashsize(database: Database) -> None:
    """The fill gathers 16 MiB of entries at a time; later writes do as FTS5 would."""
    await _insert(database, *(f"/fill/file-{n:03d}.txt" for n in range(50)))
    async with database.session() as session:
        await rebuild_search_index(session)
        hashsize = await session.scalar(
            sa.text("SELECT v FROM files_fts_config WHERE k = 'hashsize'")
        )
        await check_search_index(session)
    assert hashsize == FTS_HASHSIZE_DEFAULT
    assert len(await _find(database, "fill")) == 50


@only_sqlite
async def test_check_reports_an_index_out_of_step(database: Database) -> None:
    await _insert(database, "/drift/before.txt")
    async with database.session() as session:
        await suspend_search_index(session)
        await session.execute(
            sa.update(File).values(filename="after.txt", file_path="/drift/after.txt")
        )
        with pytest.raises(RuntimeError, match="suspended"):
            await check_search_index(session)
        # Triggers back without a rebuild: the index still holds the old names.
        conn = await session.connection()
        for sql in FTS_TRIGGERS.values():
            await conn.exec_driver_sql(sql)
        with pytest.raises(sa.exc.DatabaseError, match="malformed"):
            await check_search_index(session)


@only_sqlite
async def test_sqlite_index_survives_vacuum(database: Database) -> None:
    """files_fts is keyed on the implicit rowid of files, which SQLite documents VACUUM *may*
    renumber (files has no INTEGER PRIMARY KEY). It does not in the SQLite we ship with;
    this test says so loudly if that ever changes (then VACUUM must be followed by a rebuild).
    """
    await _insert(database, *(f"/vac/file-{n:03d}.txt" for n in range(300)))
    async with database.session() as session:
        await session.execute(sa.delete(File).where(File.file_path.like("/vac/file-%0.txt")))
    await database.engine.dispose()  # VACUUM needs the only connection
    path = database.sqlite_path
    assert path is not None
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("VACUUM")
        raw.execute(f"VACUUM INTO '{path}.copy'")
    for url in (str(path), f"{path}.copy"):
        with closing(sqlite3.connect(url)) as raw:
            raw.execute("INSERT INTO files_fts(files_fts, rank) VALUES ('integrity-check', 1)")
    assert await _find(database, "file-123") == {"/vac/file-123.txt"}
    assert await _find(database, "file-120") == set()


async def test_autogenerate_does_not_see_search_objects(database: Database) -> None:
    def _diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": include_object_for(connection.dialect.name),
                "compare_type": True,
            },
        )
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as connection:
        diffs = await connection.run_sync(_diff)
    mentions = [d for d in diffs if "files_fts" in repr(d) or "trgm" in repr(d)]
    assert mentions == []
