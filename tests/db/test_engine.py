"""``Database``: units of work, the pool, and SQLite's per-connection settings."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import MAX_OVERFLOW, POOL_SIZE, SQLITE_BUSY_TIMEOUT_MS, Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.records import PoolStatus
from filemeta_gui.repositories import FileRepository
from tests.repositories.factories import file_row

only_postgresql = pytest.mark.parametrize("backend", ["postgresql"])
only_sqlite = pytest.mark.parametrize("backend", ["sqlite"])


async def _file_count(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(File))).scalar_one())


async def test_open_and_ping(database: Database) -> None:
    async with database.session() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1


async def test_unit_of_work_commits_on_success(database: Database) -> None:
    async with database.session() as session:
        await FileRepository(session).create(**file_row("/w/1"))
    assert await _file_count(database) == 1


async def test_unit_of_work_rolls_back_on_any_error(database: Database) -> None:
    with pytest.raises(ValueError, match="changed my mind"):
        async with database.session() as session:
            await FileRepository(session).bulk_create([file_row("/w/1"), file_row("/w/2")])
            raise ValueError("changed my mind")  # not a database error: passes through as is
    assert await _file_count(database) == 0


async def test_expire_on_commit_is_off(database: Database) -> None:
    async with database.session() as session:
        row = await FileRepository(session).create(**file_row("/w/keep"))
    # Attributes stay readable after the unit of work, without a session to refresh them.
    assert row.file_path == "/w/keep"


@only_postgresql
async def test_sixty_units_of_work_share_the_pool(database: Database) -> None:
    capacity = POOL_SIZE + MAX_OVERFLOW
    entered = 0
    snapshots: list[PoolStatus] = []
    all_busy = asyncio.Event()

    async def unit_of_work() -> None:
        nonlocal entered
        async with database.session() as session:
            await session.execute(text("SELECT 1"))  # holds a connection from here on
            entered += 1
            snapshots.append(database.pool_status())
            if entered == capacity:
                all_busy.set()
            # The first 50 wait here, holding every connection the pool may open; the
            # other 10 wait inside the pool and get a connection once these finish.
            await all_busy.wait()

    await asyncio.wait_for(asyncio.gather(*(unit_of_work() for _ in range(60))), timeout=60)
    assert entered == 60
    assert max(s.checked_out for s in snapshots) == capacity
    assert max(s.overflow for s in snapshots) == MAX_OVERFLOW > 0
    assert all(s.checked_out <= capacity for s in snapshots)
    after = database.pool_status()
    assert (after.checked_out, after.size, after.max_overflow) == (0, POOL_SIZE, MAX_OVERFLOW)


@only_sqlite
async def test_sqlite_pragmas_apply_to_every_connection(database: Database) -> None:
    async with AsyncExitStack() as stack:
        # Three sessions open at once hold three distinct pooled connections.
        sessions = [await stack.enter_async_context(database.session()) for _ in range(3)]
        seen = [await _pragmas(session) for session in sessions]
        assert database.pool_status().checked_out == 3
    assert (
        seen
        == [
            {
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
                "synchronous": 1,  # NORMAL
            }
        ]
        * 3
    )


async def _pragmas(session: AsyncSession) -> dict[str, Any]:
    names = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
    return {n: (await session.execute(text(f"PRAGMA {n}"))).scalar_one() for n in names}


@pytest.fixture
async def statements(database: Database) -> AsyncIterator[list[str]]:
    """Every SQL string the engine sends, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.strip().upper())

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(database.engine.sync_engine, "before_cursor_execute", record)


@only_sqlite
async def test_write_session_begins_immediate(database: Database, statements: list[str]) -> None:
    async with database.session(write=True) as session:
        await session.execute(text("SELECT 1"))
    async with database.session() as session:
        await session.execute(text("SELECT 1"))
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


@only_sqlite
async def test_write_session_holds_the_write_lock_from_the_start(database: Database) -> None:
    path = str(database.sqlite_path)

    def other_writer_can_start() -> bool:
        # A second program with no patience at all (timeout=0).
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        finally:
            other.close()

    async with database.session() as session:
        await session.execute(text("SELECT 1"))
        assert other_writer_can_start()  # a reading unit of work takes no write lock
    async with database.session(write=True) as session:
        assert not other_writer_can_start()  # before this unit has written anything


async def test_pool_status_is_a_plain_snapshot(database: Database) -> None:
    async with database.session() as session:
        await session.execute(text("SELECT 1"))
        busy = database.pool_status()
    idle = database.pool_status()
    assert busy.checked_out == 1 and idle.checked_out == 0
    assert idle.checked_in >= 1 and idle.overflow == 0


_SLOW_SQLITE_QUERY = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000000) "
    "SELECT count(*) FROM n"
)


@only_sqlite
async def test_cancelled_sqlite_query_stops_at_once(database: Database) -> None:
    """Cancelling the task stops the statement itself: the connection is free again at
    once instead of after the query would have finished (tens of seconds here)."""

    async def slow() -> None:
        async with database.session() as session:
            await session.execute(_SLOW_SQLITE_QUERY)

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)  # the statement is running in aiosqlite's thread
    started = asyncio.get_running_loop().time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.get_running_loop().time() - started < 2.0
    assert database.pool_status().checked_out == 0
    # The pool's connections still work: nothing was left interrupted.
    for _ in range(3):
        async with database.session() as session:
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
