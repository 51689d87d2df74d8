"""What does the always-on QueryMonitor cost per query?

Runs the same ``--queries`` simple queries (``SELECT 1`` on one held connection, and a
session per query for the pool path) on a Database with the monitor and one without,
alternating over ``--rounds`` rounds, on SQLite and (when a URL is given) PostgreSQL.
Prints per query the wall time and the CPU time of the event-loop thread (where the
listeners run; it leaves out waiting for the server, whose jitter is larger than the
monitor's cost), each from the fastest round (other load only ever adds time), their
difference and ratio; then the listeners' own cost, timed without any database.

    python benchmarks/bench_monitoring.py
    python benchmarks/bench_monitoring.py --pg-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.db.monitoring import QueryMonitor

QUERY = text("SELECT 1")


Timing = tuple[float, float]  # (wall seconds, loop-thread CPU seconds) per query


async def per_query_on_one_connection(database: Database, queries: int) -> Timing:
    async with database.engine.connect() as connection:
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(queries):
            await connection.execute(QUERY)
        return (time.perf_counter() - wall) / queries, (time.thread_time() - cpu) / queries


async def per_query_with_sessions(database: Database, queries: int) -> Timing:
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(queries):
        async with database.session() as session:
            await session.execute(QUERY)
    return (time.perf_counter() - wall) / queries, (time.thread_time() - cpu) / queries


def _line(name: str, on: float, off: float) -> str:
    on, off = on * 1e6, off * 1e6
    return (
        f"{name} {on:7.1f} vs {off:7.1f} µs  "
        f"overhead {on - off:+5.1f} µs ({(on / off - 1) * 100:+5.1f} %, ratio {on / off:.3f})"
    )


async def compare(url: str, queries: int, rounds: int, with_sessions: bool) -> str:
    # Two Databases rather than one monitor attached and detached: SQLAlchemy keeps an
    # engine on its slower "has events" path after the last listener is removed, which
    # would charge part of the monitor's cost to the detached runs too.
    run = per_query_with_sessions if with_sessions else per_query_on_one_connection
    monitored, plain = Database(url), Database(url, monitoring=False)
    try:
        for database in (monitored, plain):  # warm up: connections, statement caches
            await run(database, max(queries // 10, 10))
        attached: list[Timing] = []
        detached: list[Timing] = []
        for index in range(rounds):
            # Alternate which goes first so drift (caches, CPU clocks) hits both equally.
            for database in (monitored, plain) if index % 2 == 0 else (plain, monitored):
                timings = attached if database is monitored else detached
                timings.append(await run(database, queries))
    finally:
        await monitored.dispose()
        await plain.dispose()
    kind = "session/query" if with_sessions else "one connection"
    # The fastest round of each: other load on the machine only ever adds time.
    wall = _line("wall", *(min(t[0] for t in runs) for runs in (attached, detached)))
    cpu = _line("cpu", *(min(t[1] for t in runs) for runs in (attached, detached)))
    return f"  {kind:15} attached vs detached: {wall} | {cpu}"


def listener_cost(calls: int = 200_000) -> float:
    """Seconds per query spent in the before/after cursor listeners, no database involved."""
    monitor = QueryMonitor()
    statement = "SELECT files.id, files.filename FROM files WHERE files.hash_value = ?"
    params = ("0" * 64,)
    connection = SimpleNamespace(info={})
    before, after = monitor._before_execute, monitor._after_execute
    started = time.perf_counter()
    for _ in range(calls):
        context = SimpleNamespace()
        before(connection, None, statement, params, context, False)
        after(connection, None, statement, params, context, False)
    return (time.perf_counter() - started) / calls


async def bench(label: str, url: str, queries: int, rounds: int) -> None:
    print(f"{label}:")
    for with_sessions in (False, True):
        print(await compare(url, queries, rounds, with_sessions))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FILEMETA_BENCH_PG_URL") or os.environ.get("FILEMETA_TEST_PG_URL"),
        help="PostgreSQL to measure too (any database: only SELECT 1 is run)",
    )
    args = parser.parse_args()
    print(f"{args.queries} queries × {args.rounds} rounds, fastest round per query")
    with tempfile.TemporaryDirectory() as folder:
        await bench("sqlite", f"sqlite:///{folder}/bench.sqlite3", args.queries, args.rounds)
    if args.pg_url:
        await bench("postgresql", args.pg_url, args.queries, args.rounds)
    else:
        print("postgresql: skipped (give --pg-url or set FILEMETA_BENCH_PG_URL)")
    cost = listener_cost()
    print(f"listeners alone: {cost * 1e6:.2f} µs per query (timing, histogram, statement LRU)")


if __name__ == "__main__":
    asyncio.run(main())
