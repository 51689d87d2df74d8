"""``race.first_of`` on the real PostgreSQL server: the first answer wins, the other
statement is stopped on the server, and no connection is left behind."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import sqlalchemy as sa

from filemeta_gui.db.engine import Database
from filemeta_gui.repositories import race
from tests.support.backends import only_postgresql

pytestmark = only_postgresql


def _answer(value: int, sleep_s: float = 0.0) -> sa.Select[Any]:
    """One row holding ``value``, after ``sleep_s`` seconds on the server."""
    return sa.select(sa.literal(value).label("value")).where(sa.func.pg_sleep(sleep_s).is_not(None))


async def _sleepers(database: Database) -> int:
    """Statements of this database still sleeping on the server."""
    async with database.session() as session:
        running = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
        )
        return int(await session.scalar(running) or 0)


async def _first_of(database: Database, head_ms: float, first: Any, second: Any) -> tuple:
    started = time.perf_counter()
    rows = await race.first_of(database.session, head_ms, first, second)
    return [row.value for row in rows], time.perf_counter() - started


async def test_the_faster_answer_wins_and_the_slower_is_stopped(database: Database) -> None:
    # The second joins after 50 ms and answers at once: the first, 30 s long, is cancelled.
    values, took = await _first_of(database, 50, _answer(1, 30), _answer(2))
    assert values == [2] and took < 10, took
    assert await _sleepers(database) == 0
    # Raced from the start, the first answers first: the second is stopped in its turn.
    values, took = await _first_of(database, 0, _answer(1, 0.2), _answer(2, 30))
    assert values == [1] and took < 10, took
    assert await _sleepers(database) == 0
    assert database.pool_status().checked_out == 0


async def test_a_first_answer_within_its_head_start_runs_alone(database: Database) -> None:
    with_calls: list[str] = []

    def count_statements(*args: Any) -> None:
        with_calls.append(args[2])

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", count_statements)
    try:
        values, _ = await _first_of(database, 10_000, _answer(1), _answer(2))
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", count_statements)
    assert values == [1]
    assert sum("pg_sleep" in sql for sql in with_calls) == 1, with_calls


async def test_an_error_is_raised_and_the_other_statement_stopped(database: Database) -> None:
    failing = sa.select(sa.literal(1).label("value")).where(sa.text("1 / (1 - 1) = 1"))
    # Raised as the statement raised it, as a walk run alone would be: the caller's
    # session says it in its own words.
    with pytest.raises(sa.exc.DBAPIError, match="division by zero"):
        await _first_of(database, 0, _answer(1, 30), failing)
    assert await _sleepers(database) == 0
    assert database.pool_status().checked_out == 0


async def test_a_caller_cancelled_mid_race_stops_both(database: Database) -> None:
    """The window cancels a page it no longer needs: both statements are stopped on the
    server, and their connections go back to the pool."""
    racing = asyncio.ensure_future(
        race.first_of(database.session, 0, _answer(1, 30), _answer(2, 30))
    )
    await asyncio.sleep(0.3)
    assert await _sleepers(database) == 2
    racing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await racing
    assert await _sleepers(database) == 0
    assert database.pool_status().checked_out == 0
