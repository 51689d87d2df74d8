"""N simulated team clients browsing, searching and tagging one PostgreSQL library.

Creates a throw-away database on the server, migrates it, seeds ``--files`` files and
``--tags`` tags, then runs ``--clients`` client tasks for ``--duration`` seconds. Each
client loops: browse (a keyset page of 100, sometimes the next ones), search (a word or
``tag:NAME``), tag or untag a few of the files it has seen; ``--think-ms`` between
actions (default 0: a stress test, every client clicks as fast as the server answers).

Realism versus the server: one desktop client is one process with its own pool and its
own listener connection. 50 such processes with the app's pool (20 + 30) could ask for
2,500 connections of a server whose ``max_connections`` is typically 100. So the clients
are spread over ``--processes`` ``Database`` objects (default 10, each standing for one
app process with a small pool and its own live-update listener, which receives every
change the others make): the server sees what 10 busy app processes would do, and the
run stays within the connections a shared server can spare.

Prints throughput, p50/p95/p99 latency per action and overall, errors (must be zero;
exit code 1 otherwise) and pool figures (peak connections in use, peak callers waiting,
checkout wait, connections opened, invalidations), plus the server's connection peak.

    python benchmarks/bench_load.py --url postgresql://postgres@127.0.0.1/postgres
    python benchmarks/bench_load.py --clients 50 --duration 30 --processes 10
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
from sqlalchemy.engine import make_url

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeEvent
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository, TagRepository
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.changes import ChangeFeed
from filemeta_gui.services.identity import resolve_identity
from filemeta_gui.services.library import LibraryService
from filemeta_gui.services.tags import TagService

# Words in file names: what searches look for.
WORDS = (  # noqa: SIM905
    "holiday beach sunset mountain lake city night report invoice budget draft "
    "final scan photo video music meeting notes plan design sketch render export "
    "backup archive contract letter poster banner logo icon sample demo test "
    "review summary"
).split()
EXTENSIONS = (
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("mp4", "video/mp4"),
    ("docx", "application/msword"),
)
SEED_BATCH = 2_000


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    notifications: int = 0
    peak_checked_out: list[int] = field(default_factory=list)
    peak_waiting: list[int] = field(default_factory=list)
    peak_server_connections: int = 0


class Client:
    """One person at a desktop: browses, searches, tags what they saw."""

    def __init__(
        self, database: Database, policy: AccessPolicy, tags: list[str], figures: Figures, seed: int
    ) -> None:
        self.library = LibraryService(database, policy)
        self.tagging = TagService(database, policy)
        self.tags = tags
        self.figures = figures
        self.random = random.Random(seed)
        self.seen: list[uuid.UUID] = []

    async def run(self, until: float, think_s: float) -> None:
        while time.monotonic() < until:
            roll = self.random.random()
            action = "browse" if roll < 0.5 else "search" if roll < 0.8 else "tag"
            if action == "tag" and not self.seen:
                action = "browse"
            started = time.perf_counter()
            try:
                await getattr(self, action)()
            except FileMetaError as error:
                self.figures.errors[f"{action}: {type(error).__name__}: {error}"] += 1
            else:
                self.figures.latencies[action].append(time.perf_counter() - started)
            if think_s:
                await asyncio.sleep(self.random.uniform(0.5, 1.5) * think_s)

    async def browse(self) -> None:
        sort = self.random.choice(list(SortColumn))
        request = PageRequest(sort=sort, descending=self.random.random() < 0.3, limit=100)
        page = await self.library.page("", request)
        # Scrolling on: a later page of the same list (keyset, no OFFSET).
        if page.next_after is not None and self.random.random() < 0.4:
            request = PageRequest(
                sort=sort, descending=request.descending, limit=100, after=page.next_after
            )
            page = await self.library.page("", request)
        self.seen = [row.id for row in page.rows] or self.seen

    async def search(self) -> None:
        if self.random.random() < 0.3:
            query = f"tag:{self.random.choice(self.tags)}"
        else:
            query = self.random.choice(WORDS)
        page = await self.library.page(query, PageRequest(limit=100))
        if page.rows:
            self.seen = [row.id for row in page.rows]

    async def tag(self) -> None:
        files = self.random.sample(self.seen, min(len(self.seen), self.random.randint(1, 20)))
        name = self.random.choice(self.tags)
        if self.random.random() < 0.25:
            await self.tagging.detach([name], files)
        else:
            await self.tagging.attach([name], files)


async def create_library(server_url: str, files: int, tags: int) -> tuple[str, str]:
    """A new database with the schema and a seeded library; returns (name, URL)."""
    name = f"filemeta_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    database = await Database.open(url)
    try:
        await resolve_identity(database)  # the first login becomes the library's admin
        names = [f"{WORDS[n % len(WORDS)]}-{n}" for n in range(tags)]
        async with database.session(write=True) as session:
            await TagRepository(session).get_or_create(names)
        rng = random.Random(7)
        for start in range(0, files, SEED_BATCH):
            async with database.session(write=True) as session:
                rows = [_file_row(n, rng) for n in range(start, min(start + SEED_BATCH, files))]
                await FileRepository(session).bulk_create(rows)
        async with database.session(write=True) as session:
            repo = TagRepository(session)
            sample = await FileRepository(session).page(PageRequest(limit=min(files, 2000)))
            ids = [row.id for row in sample[0]]
            for tag in await repo.get_or_create(names):
                await repo.attach([tag.id], rng.sample(ids, min(len(ids), 50)))
    finally:
        await database.dispose()
    return name, url


def _file_row(n: int, rng: random.Random) -> dict[str, object]:
    from datetime import UTC, datetime, timedelta

    ext, content_type = rng.choice(EXTENSIONS)
    name = f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{n:06}.{ext}"
    return {
        "filename": name,
        "file_path": f"/library/{rng.choice(WORDS)}/{name}",
        "file_size": rng.randint(1_000, 50_000_000),
        "content_type": content_type,
        "extension": ext,
        "mtime_ns": rng.randint(1_500_000_000, 1_700_000_000) * 10**9,
        "upload_time": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        "hash_value": f"{rng.getrandbits(256):064x}",
    }


async def drop_library(server_url: str, name: str) -> None:
    admin = await asyncpg.connect(_dsn(server_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(database: Database, policy: AccessPolicy, figures: Figures) -> None:
    async for event in ChangeFeed(database, policy):
        if isinstance(event, ChangeEvent):
            figures.notifications += 1


async def sample(processes: list[Database], url: str, figures: Figures, until: float) -> None:
    """Peak pool use every 100 ms, and the server's connection count to the library."""
    watcher = await asyncpg.connect(_dsn(url))
    try:
        while time.monotonic() < until:
            snapshots = [p.monitor.snapshot().pool for p in processes]
            figures.peak_checked_out.append(sum(s.checked_out for s in snapshots))
            figures.peak_waiting.append(sum(s.waiting for s in snapshots))
            connections = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            figures.peak_server_connections = max(figures.peak_server_connections, connections)
            await asyncio.sleep(0.1)
    finally:
        await watcher.close()


async def run_load(url: str, args: argparse.Namespace) -> tuple[Figures, list[Database], float]:
    figures = Figures()
    processes = [
        Database(
            url,
            application_name=f"bench-{n}",
            pool_size=args.pool_size,
            max_overflow=args.max_overflow,
        )
        for n in range(args.processes)
    ]
    policies = [AccessPolicy(await resolve_identity(p)) for p in processes]
    tag_names = await TagService(processes[0], policies[0]).list()
    tags = [t.name for t in tag_names]
    listeners = [
        asyncio.create_task(listen(p, a, figures)) for p, a in zip(processes, policies, strict=True)
    ]
    started = time.monotonic()
    until = started + args.duration
    clients = [
        Client(processes[n % len(processes)], policies[n % len(processes)], tags, figures, n)
        for n in range(args.clients)
    ]
    sampler = asyncio.create_task(sample(processes, url, figures, until))
    await asyncio.gather(*(c.run(until, args.think_ms / 1000) for c in clients))
    elapsed = time.monotonic() - started
    await sampler
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    return figures, processes, elapsed


def report(
    figures: Figures,
    processes: list[Database],
    elapsed: float,
    args: argparse.Namespace,
    max_connections: str,
) -> None:
    every = [x for values in figures.latencies.values() for x in values]
    print(
        f"\n{args.clients} clients over {args.processes} processes "
        f"(pool {args.pool_size}+{args.max_overflow} each), {elapsed:.1f} s, "
        f"{args.files} files, think time {args.think_ms} ms"
    )
    print(f"{'action':<8} {'ops':>7} {'ops/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in [*sorted(figures.latencies.items()), ("all", every)]:
        print(_row(name, values, elapsed))
    errors = sum(figures.errors.values())
    print(f"errors: {errors}")
    for message, n in figures.errors.most_common(5):
        print(f"  {n} × {message}")
    pools = [p.monitor.snapshot().pool for p in processes]
    waits = [p.wait for p in pools if p.wait is not None]
    wait_total = sum(w.total for w in waits)
    wait_count = sum(w.count for w in waits)
    print(
        f"pool: peak in use {max(figures.peak_checked_out, default=0)} of "
        f"{args.processes * (args.pool_size + args.max_overflow)}, "
        f"peak waiting {max(figures.peak_waiting, default=0)}, "
        f"checkouts {sum(p.checkouts for p in pools)}, "
        f"mean checkout wait {wait_total / max(wait_count, 1) * 1000:.2f} ms, "
        f"connections opened {sum(p.connects for p in pools)}, "
        f"timeouts {sum(p.timeouts for p in pools)}, "
        f"invalidated {sum(p.invalidated for p in pools)}"
    )
    print(
        f"server: peak {figures.peak_server_connections} connections to the library "
        f"(pools + {args.processes} listeners) of max_connections {max_connections}; "
        f"notifications received {figures.notifications}"
    )


def _row(name: str, values: list[float], elapsed: float) -> str:
    if not values:
        return f"{name:<8} {0:>7}"
    cuts = (
        statistics.quantiles(values, n=100, method="inclusive")
        if len(values) > 1
        else (values * 99)
    )
    p50, p95, p99 = (cuts[i] * 1000 for i in (49, 94, 98))
    return (
        f"{name:<8} {len(values):>7} {len(values) / elapsed:>8.1f} "
        f"{p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url",
        default="postgresql://postgres@127.0.0.1/postgres",
        help="a server and a database to connect to while creating the library",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--max-overflow", type=int, default=0)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=40)
    parser.add_argument("--think-ms", type=float, default=0.0)
    parser.add_argument("--keep", action="store_true", help="keep the library afterwards")
    args = parser.parse_args()

    admin = await asyncpg.connect(_dsn(args.url))
    try:
        max_connections = str(await admin.fetchval("SHOW max_connections"))
    finally:
        await admin.close()
    print(f"seeding {args.files} files…", flush=True)
    name, url = await create_library(args.url, args.files, args.tags)
    processes: list[Database] = []
    try:
        figures, processes, elapsed = await run_load(url, args)
        report(figures, processes, elapsed, args, max_connections)
        return 1 if sum(figures.errors.values()) else 0
    finally:
        for database in processes:
            await database.dispose()
        if args.keep:
            print(f"library kept: {url}")
        else:
            await drop_library(args.url, name)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
