"""Helpers for the plan tests: a library with skewed columns, and the plans of what ran.

``captured`` records the statements a real call sends (``before_cursor_execute``) and
``explain`` asks the database for the plan of each, with the same bound parameters: the
plans tested are those of the app's own queries, not of hand-written SQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File, FileTag, Tag
from tests.repositories.factories import digest

ROWS = 3000
RARE_TYPE = "application/x-rare"
RARE_COUNT = 12
COMMON_TAG = "everywhere"
RARE_TAG = "seldom"

Statement = tuple[str, Any]


def library_rows() -> list[dict[str, Any]]:
    """``ROWS`` files: two thirds JPEG, one third MP4, a dozen of a rare type; a tenth
    unhashed, a few in the bin; names that sort the types into clusters, as camera names do."""
    rows = []
    for n in range(ROWS):
        kind = RARE_TYPE if n % 250 == 0 else "video/mp4" if n % 3 == 0 else "image/jpeg"
        name = f"{'VID' if kind == 'video/mp4' else 'IMG'}_{n:05d}.{'mp4' if n % 3 == 0 else 'jpg'}"
        rows.append(
            {
                "id": uuid.uuid4(),
                "filename": name,
                "file_path": f"/home/me/{'trip' if n % 7 else 'zanzibar'}/{n % 40}/{name}",
                "file_size": (n * 7919) % 100_000,
                "content_type": kind,
                "extension": ".mp4" if n % 3 == 0 else ".jpg",
                "mtime_ns": n * 1_000_000_007,
                "upload_time": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
                "hash_value": None if n % 10 == 0 else digest(str(n % 2500)),
                "deleted_at": datetime(2024, 2, 1, tzinfo=UTC) if n % 97 == 0 else None,
            }
        )
    return rows


async def load_library(database: Database) -> list[dict[str, Any]]:
    rows = library_rows()
    common, rare = uuid.uuid4(), uuid.uuid4()
    async with database.session() as session:
        await session.execute(sa.insert(File), rows)
        await session.execute(
            sa.insert(Tag), [{"id": common, "name": COMMON_TAG}, {"id": rare, "name": RARE_TAG}]
        )
        links = [{"file_id": r["id"], "tag_id": common} for r in rows[::2]]
        links += [{"file_id": r["id"], "tag_id": rare} for r in rows[5:200:40]]
        await session.execute(sa.insert(FileTag), links)
    await analyze(database)
    return rows


async def analyze(database: Database) -> None:
    """PostgreSQL: fresh statistics and visibility map (VACUUM runs outside a transaction)."""
    if database.is_sqlite:
        return
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.exec_driver_sql("VACUUM ANALYZE files")
        await autocommit.exec_driver_sql("ANALYZE file_tags")


@contextmanager
def captured(database: Database) -> Iterator[list[Statement]]:
    """The SELECT statements sent while the block runs, with their parameters."""
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, params))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def explain(database: Database, statement: Statement) -> str:
    """The plan of one captured statement, as text naming its nodes and indexes.

    PostgreSQL plans with sequential scans and sorts priced out: on 3,000 rows a scan and
    a sort are rightly cheaper, and the question is whether the indexes *can* serve.
    """
    sql, params = statement
    params = tuple(params) if params is not None else ()
    async with database.engine.connect() as connection:
        if database.is_sqlite:
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in rows)
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        await connection.exec_driver_sql("SET LOCAL enable_sort = off")
        result = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return json.dumps(result.scalar_one())


async def plans_of(database: Database, call: Callable[[], Awaitable[object]]) -> list[str]:
    """Plans of the statements on ``files`` that ``call`` sends."""
    with captured(database) as statements:
        await call()
    wanted = [
        s for s in statements if " files" in s[0] and "file_tags.file_id, tags.name" not in s[0]
    ]
    return [await explain(database, statement) for statement in wanted]
