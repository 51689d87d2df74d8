"""A query that is slow on purpose, on either backend.

The time is spent inside the database query itself (``pg_sleep``, or a SQLite function
that sleeps in SQLite's thread), which is exactly what the monitor measures. Nothing in
the test code sleeps.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, text

from filemeta_gui.db.engine import Database

SLOW_SECONDS = 0.15
SLEEP_FUNCTION = "filemeta_test_sleep"


def _sleep_in_sqlite(seconds: float) -> int:
    time.sleep(seconds)
    return 0


def _register_sleep(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite's adapter forwards create_function to the sqlite3 connection in its thread.
    dbapi_connection.create_function(SLEEP_FUNCTION, 1, _sleep_in_sqlite)


async def install_sleep_function(database: Database) -> None:
    """SQLite: make ``filemeta_test_sleep(seconds)`` exist on every connection."""
    if not database.is_sqlite or event.contains(
        database.engine.sync_engine, "connect", _register_sleep
    ):
        return
    event.listen(database.engine.sync_engine, "connect", _register_sleep)
    await database.engine.dispose()  # pooled connections were opened before the hook


def slow_statement(database: Database) -> str:
    """A SELECT that sleeps ``:seconds`` and also reads ``files`` (so its plan has a table)."""
    if database.is_sqlite:
        sleep = f"{SLEEP_FUNCTION}(:seconds)"
        return f"SELECT {sleep} + (SELECT count(*) FROM files WHERE filename = :name) AS n"
    return "SELECT pg_sleep(:seconds), (SELECT count(*) FROM files WHERE filename = :name) AS n"


async def run_slow_query(
    database: Database, seconds: float = SLOW_SECONDS, name: str = "private-holiday.jpg"
) -> None:
    await install_sleep_function(database)
    async with database.session() as session:
        await session.execute(text(slow_statement(database)), {"seconds": seconds, "name": name})
