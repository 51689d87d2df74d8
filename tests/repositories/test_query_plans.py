"""Word and path searches are answered through the search indexes, not by reading every row."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.repositories.query_sql import search_condition
from tests.support.backends import only_postgresql, only_sqlite

WORDS = ("holiday", "invoice", "report", "track", "screenshot", "IMG")
FOLDERS = ("photos", "music", "docs", "src")
ROWS = 3000


def _rows() -> list[dict[str, Any]]:
    rows = []
    for n in range(ROWS):
        name = f"{WORDS[n % len(WORDS)]}_{uuid.uuid5(uuid.NAMESPACE_OID, str(n)).hex[:8]}.jpg"
        rows.append(
            {
                "id": uuid.uuid4(),
                "filename": name,
                "file_path": f"/home/me/{FOLDERS[n % len(FOLDERS)]}/{n % 50}/{name}",
                "file_size": n,
                "content_type": "image/jpeg",
                "extension": "jpg",
                "mtime_ns": n,
            }
        )
    return rows


async def _plan(connection: AsyncConnection, query: str, database: Database) -> str:
    """The plan of a search for ``query``, as text naming the tables and indexes used."""
    statement = sa.select(File.id).where(search_condition(query, database.backend))
    if database.is_sqlite:
        statement = statement.order_by(File.filename, File.id).limit(200)
    # Not on PostgreSQL: on a few thousand rows its planner rightly prefers walking the
    # ix_files_filename_id order and filtering; at 100k rows it switches to the trigram
    # indexes for rare words (measured). The question here is whether they can serve.
    compiled = statement.compile(dialect=connection.dialect)
    # Run with bound parameters, as the app does (a literal could get a different plan).
    params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    if database.is_sqlite:
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        return "\n".join(str(row[-1]) for row in result)  # (id, parent, notused, detail)
    result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", params)
    return json.dumps(result.scalar_one())


async def _load(database: Database) -> None:
    async with database.session() as session:
        await session.execute(sa.insert(File), _rows())
        if not database.is_sqlite:
            await session.execute(sa.text("ANALYZE files"))


@only_sqlite
async def test_sqlite_words_of_three_or_more_characters_use_fts(database: Database) -> None:
    await _load(database)
    async with database.engine.connect() as connection:
        for query in ("holiday", "holiday 4f", '"voice_"', "path:*/docs/*holiday*", "a OR bcd"):
            plan = await _plan(connection, query, database)
            assert "files_fts VIRTUAL TABLE" in plan, f"{query!r}:\n{plan}"
        # The FTS hits are looked up by rowid, not matched against a scan of files.
        plan = await _plan(connection, "holiday", database)
        assert "SEARCH files USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        # A folder listing (a glob with a literal start) reads a range of the path index.
        plan = await _plan(connection, "path:/home/me/docs/*", database)
        assert re.search(r"SEARCH files USING .*INDEX sqlite_autoindex_files_\d \(file_path>", plan)
        # Trigram FTS cannot answer 1-2 characters: those read the table (by design).
        assert "files_fts" not in await _plan(connection, "4f", database)


@only_postgresql
async def test_postgresql_words_and_paths_use_trigram_indexes(database: Database) -> None:
    await _load(database)
    async with database.engine.connect() as connection:
        # A few thousand rows are too few for the planner to prefer any index on its own;
        # forbidding sequential scans asks whether the trigram index *can* serve the query.
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # The Folder sort index (migration 0005) covers ``SELECT id ... WHERE file_path``,
        # and on 3,000 rows a full scan of it looks cheaper than the trigram index: out of
        # the way for this question (DDL is transactional; nothing here is committed).
        await connection.exec_driver_sql("DROP INDEX ix_files_sort_file_path")
        plan = await _plan(connection, "holiday_4f", database)
        assert '"Index Name": "ix_files_trgm_path"' in plan, plan
        plan = await _plan(connection, "path:/home/me/docs/*/holiday*", database)
        assert '"Index Name": "ix_files_trgm_path"' in plan, plan
        plan = await _plan(connection, "HOLIDAY -invoice", database)
        assert "ix_files_trgm_" in plan, plan


def test_sqlite_asks_fts_once_for_all_long_words_of_a_group() -> None:
    """FTS5 intersects posting lists itself; one subquery per word would make SQLite do it."""

    def matches(query: str) -> list[str]:
        sql = sa.select(File.id).where(search_condition(query, "sqlite"))
        compiled = sql.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
        return re.findall(r"MATCH '([^']*)'", str(compiled))

    assert matches("beach day -sunset x") == ['("beach" AND "day") NOT "sunset"']
    assert matches("abc OR (def ghi) OR y") == ['"abc" OR ("def" AND "ghi")']
    assert matches('-abc -"d""ef"') == ['"abc"', '"d""ef"']  # nothing to subtract from
    assert matches("ab OR cd") == []
