"""QueryMonitor on real databases: timing, the slow log, exclusions, bounds and the pool."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from filemeta_gui.db.engine import Database
from filemeta_gui.db.monitored_pool import MonitoredQueuePool
from filemeta_gui.db.monitoring import (
    QueryMonitor,
    current_operation,
    normalise_statement,
    operation,
    redact_parameters,
    unmonitored,
)
from filemeta_gui.db.plans import explain_slow_query
from filemeta_gui.db.url import parse_database_url
from tests.support.slow_sql import SLOW_SECONDS, run_slow_query


async def test_slow_query_is_logged_with_its_operation_and_can_be_explained(
    database: Database,
) -> None:
    with operation("library.search"):
        await run_slow_query(database, name="private-holiday.jpg")
    snapshot = database.monitor.snapshot()

    [entry] = [e for e in snapshot.slow_queries if "files" in e.statement]
    assert snapshot.slow_threshold_seconds == pytest.approx(0.1)
    assert entry.duration_seconds >= SLOW_SECONDS > snapshot.slow_threshold_seconds
    assert entry.operation == "library.search"
    assert entry.parameters == ("float", "str")
    assert "private-holiday" not in repr(entry)
    assert entry.started_at <= snapshot.taken_at
    [stats] = [s for s in snapshot.statements if s.statement == entry.normalised]
    assert stats.calls == 1 and stats.max_seconds >= SLOW_SECONDS
    assert stats.last_operation == "library.search"

    plan = await explain_slow_query(database, entry)
    labels = " / ".join(node.label for node in plan.root.walk())
    assert "files" in labels
    if database.is_sqlite:
        assert not plan.analyzed
    else:
        assert plan.analyzed and plan.execution_ms is not None
        assert plan.execution_ms >= SLOW_SECONDS * 1000
    # The plan was the panel's own work: it is not in the figures.
    after = database.monitor.snapshot()
    assert after.queries == snapshot.queries
    assert after.excluded > snapshot.excluded


async def test_queries_are_timed_and_grouped_by_normalised_statement(database: Database) -> None:
    before = database.monitor.snapshot()
    async with database.session() as session:
        for n in (1, 2, 3):
            await session.execute(text(f"SELECT {n} + 40 AS answer"))
    after = database.monitor.snapshot()

    stats = {s.statement: s for s in after.statements}
    assert stats["SELECT ? + ? AS answer"].calls == 3
    new_queries = after.queries - before.queries
    assert new_queries >= 3
    assert after.latency.since(before.latency).count == new_queries
    assert after.slow_total == before.slow_total
    assert after.errors == before.errors


async def test_failed_queries_count_as_errors(database: Database) -> None:
    before = database.monitor.snapshot()
    with pytest.raises(Exception, match="no_such_table"):
        async with database.session() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    after = database.monitor.snapshot()
    assert after.errors == before.errors + 1
    [stats] = [s for s in after.statements if "no_such_table" in s.statement]
    assert stats.errors == 1 and stats.calls == 1


async def test_unmonitored_queries_do_not_count(database: Database) -> None:
    before = database.monitor.snapshot()
    with unmonitored():
        async with database.session() as session:
            await session.execute(text("SELECT 42 AS hidden_marker"))
        await run_slow_query(database)
    after = database.monitor.snapshot()

    assert after.queries == before.queries
    assert after.latency.count == before.latency.count
    assert after.slow_total == before.slow_total
    assert after.excluded >= before.excluded + 2
    assert not [s for s in after.statements if "hidden_marker" in s.statement]


async def test_slow_log_and_statement_table_stay_within_their_caps(database: Database) -> None:
    database.monitor.detach()
    monitor = QueryMonitor(slow_query_ms=0, max_statements=5, max_slow_queries=3)
    monitor.attach(database.engine)
    try:
        async with database.session() as session:
            for i in range(20):
                await session.execute(text(f"SELECT {i} AS column_{i}"))
    finally:
        monitor.detach()
    snapshot = monitor.snapshot()

    assert len(snapshot.statements) == 5
    assert snapshot.statements_evicted == snapshot.queries - 5 >= 15
    assert len(snapshot.slow_queries) == 3
    assert snapshot.slow_total == snapshot.queries
    assert "column_19" in snapshot.slow_queries[-1].statement
    kept = [i for i in range(1, snapshot.slow_total + 1) if monitor.slow_query_arguments(i)]
    assert kept == [entry.id for entry in snapshot.slow_queries]
    # The detached Database monitor saw none of it.
    assert not [s for s in database.monitor.snapshot().statements if "column_" in s.statement]


async def test_checkout_timeouts_invalidations_and_reconnects(db_url: str) -> None:
    url, _backend = parse_database_url(db_url)
    engine = create_async_engine(
        url, poolclass=MonitoredQueuePool, pool_size=1, max_overflow=0, pool_timeout=0.05
    )
    monitor = QueryMonitor()
    monitor.attach(engine)
    try:
        async with engine.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(sa_exc.TimeoutError):
                async with engine.connect() as second:
                    await second.execute(text("SELECT 1"))
            busy = monitor.snapshot().pool
            await held.invalidate()
        async with engine.connect() as again:
            await again.execute(text("SELECT 1"))
        after = monitor.snapshot().pool
    finally:
        monitor.detach()
        await engine.dispose()

    assert busy.timeouts == 1 and busy.waiting == 0
    assert (busy.size, busy.checked_out, busy.idle) == (1, 1, 0)
    assert after.invalidated == 1 and after.reconnects == 1 and after.connects == 2
    assert after.wait is not None and after.wait.count == 2  # the timed-out one is not in it


async def test_the_pool_observer_survives_engine_dispose(database: Database) -> None:
    await database.engine.dispose()
    pool = database.engine.pool
    assert isinstance(pool, MonitoredQueuePool) and pool.observer is database.monitor
    before = database.monitor.snapshot().pool
    await database.ping()
    after = database.monitor.snapshot().pool
    assert after.checkouts == before.checkouts + 1
    assert after.wait is not None and before.wait is not None
    assert after.wait.count == before.wait.count + 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_pool_figures_show_overflow_and_waiting_under_60_tasks(database: Database) -> None:
    tasks_count, capacity = 60, 50  # pool_size 20 + max_overflow 30
    release, all_holding = asyncio.Event(), asyncio.Event()
    holding = 0

    async def hold_a_connection() -> None:
        nonlocal holding
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
            holding += 1
            if holding == capacity:
                all_holding.set()
            await release.wait()

    before = database.monitor.snapshot().pool
    tasks = [asyncio.create_task(hold_a_connection()) for _ in range(tasks_count)]
    try:
        await asyncio.wait_for(all_holding.wait(), timeout=30)
        busy = database.monitor.snapshot().pool
    finally:
        release.set()
        await asyncio.gather(*tasks)
    after = database.monitor.snapshot().pool

    assert (busy.size, busy.max_overflow) == (20, 30)
    assert (busy.checked_out, busy.overflow, busy.idle) == (50, 30, 0)
    assert busy.waiting == tasks_count - capacity
    assert after.waiting == 0 and after.checked_out == 0
    assert after.overflow_opened - before.overflow_opened == 30
    assert after.wait is not None and before.wait is not None
    assert after.wait.since(before.wait).count == tasks_count


async def test_operation_names_follow_tasks_coroutines_and_async_generators() -> None:
    @operation("tags.attach")
    async def attach() -> str | None:
        return current_operation()

    @operation("folders.scan")
    async def scan() -> AsyncIterator[str | None]:
        yield current_operation()
        with operation("folders.hash"):
            yield current_operation()

    assert await attach() == "tags.attach"
    seen = []
    async for name in scan():
        seen.append(name)
        assert current_operation() is None  # never leaks to the consumer between items
    assert seen == ["folders.scan", "folders.hash"]
    with operation("outer"):
        results = await asyncio.gather(attach(), asyncio.to_thread(current_operation))
        assert current_operation() == "outer"
    assert results == ["tags.attach", "outer"]


def test_normalised_statements_hide_literals_and_collapse_lists() -> None:
    assert normalise_statement("SELECT  *\n FROM files WHERE id = 'x''y' AND n > 10") == (
        "SELECT * FROM files WHERE id = ? AND n > ?"
    )
    assert normalise_statement("SELECT a FROM t WHERE id IN ($1::UUID, $2::UUID, $3)") == (
        normalise_statement("SELECT a FROM t WHERE id IN ($1::UUID, $2::UUID)")
    )
    assert normalise_statement("INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)") == (
        "INSERT INTO t (a, b) VALUES (?, ...), ..."
    )
    assert normalise_statement("SELECT ix_files_2.x /* hint 5 */ FROM t LIMIT 20") == (
        "SELECT ix_files_2.x FROM t LIMIT ?"
    )


def test_parameters_are_reduced_to_type_names() -> None:
    assert redact_parameters(("secret", 3, None)) == (("str", "int", "NoneType"), 1)
    assert redact_parameters({"path": "/home/me"}) == (("path: str",), 1)
    assert redact_parameters([("a", 1.5), ("b", 2.5)], executemany=True) == (
        ("str", "float"),
        2,
    )
    names, _batch = redact_parameters(tuple(range(100)))
    assert len(names) == 41 and names[-1] == "… 60 more"
