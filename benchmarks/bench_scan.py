"""Scan benchmark: a synthetic tree on SQLite and PostgreSQL, with anchors from the same run.

    python benchmarks/bench_scan.py --files 100000
    python benchmarks/bench_scan.py --files 100000 --pg-url postgresql://postgres@127.0.0.1/postgres
    python benchmarks/bench_scan.py --tree DIR --workdir DIR --repeat 3   # medians, ranges

For each backend, on a fresh library:

1. metadata-only first scan (``--no-hash``): files/s;
2. hashing pass (the same folder, now hashed): MB/s over the hashing phase;
3. unchanged rescan: seconds;
4. full first scan (walk + hash) on another fresh library, and an unchanged rescan after
   it: seconds, and the rescan as a share of the first scan.

Anchors, measured on the same tree in the same run: ``find -printf`` of size, mtime and
path (the C floor for a walk that stats every file) and plain ``hashlib.file_digest`` over
every file, in one process and in as many processes as there are cores (the files split
evenly by bytes): the floors per core and for the whole machine. Our hashing rate is
compared with the second (the ratio *per core in use*) and with the first times the
cores. The tree is read once before measuring so every figure is on a warm page cache.
The machine is shared: the load average is printed before and after. The largest
event-loop stall seen during each scan is printed too (the GUI scans in a child process,
``bench_gui_scan.py``; this is the in-process path the command line uses).

The tree is made by ``make_tree.py`` (seeded: the same tree every time) unless ``--tree``
names one; PostgreSQL gets a throw-away database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from make_tree import TreeSpec, make_tree
from sqlalchemy.engine import make_url

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.scan import ScanOptions, ScanPhase, ScanProgress
from filemeta_gui.repositories.index_writes import ensure_folder
from filemeta_gui.services.indexer.scanner import FolderScanner
from filemeta_gui.startup import freeze_startup_objects

DEFAULT_PG = os.environ.get("FILEMETA_TEST_PG_URL", "postgresql://postgres@127.0.0.1/postgres")


@dataclass
class ScanTiming:
    seconds: float
    last: ScanProgress
    clock: PhaseClock
    max_stall: float = 0.0


@dataclass
class BackendFigures:
    name: str
    metadata: ScanTiming | None = None
    hashing: ScanTiming | None = None
    rescan: ScanTiming | None = None
    full: ScanTiming | None = None
    full_rescan: ScanTiming | None = None
    notes: list[str] = field(default_factory=list)


# --- anchors -------------------------------------------------------------------------------


def all_files(root: Path) -> list[str]:
    found: list[str] = []
    for folder, _dirs, files in os.walk(root):
        found.extend(os.path.join(folder, name) for name in files)
    return found


def find_anchor(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["find", str(root), "-type", "f", "-printf", "%s %T@ %p\\n"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def hashlib_anchor(paths: list[str]) -> tuple[float, int]:
    """One thread, the plain way: ``hashlib.file_digest`` per file."""
    started = time.perf_counter()
    total = _hash_all(paths)
    return time.perf_counter() - started, total


def _hash_all(paths: list[str]) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            hashlib.file_digest(handle, "sha256")
            total += os.fstat(handle.fileno()).st_size
    return total


def hashlib_processes_anchor(paths: list[str], processes: int) -> tuple[float, int]:
    """``processes`` processes (started and warmed before the clock starts), each hashing
    its share of the files the plain way; shares balanced by bytes."""
    shares: list[list[str]] = [[] for _ in range(processes)]
    weights = [0] * processes
    for size, path in sorted(((os.stat(p).st_size, p) for p in paths), reverse=True):
        lightest = weights.index(min(weights))
        shares[lightest].append(path)
        weights[lightest] += size
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        list(pool.map(_hash_all, [[] for _ in range(processes)]))  # every worker is up
        started = time.perf_counter()
        total = sum(pool.map(_hash_all, shares))
        return time.perf_counter() - started, total


# --- scans ---------------------------------------------------------------------------------


class PhaseClock:
    """When each phase was first and last seen, and the hashing rate between those."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: dict[ScanPhase, float] = {}
        self.last: dict[ScanPhase, float] = {}
        self.hashed_first: int | None = None
        self.hashed_last = 0

    def see(self, event: ScanProgress) -> None:
        now = time.perf_counter() - self.started
        self.first.setdefault(event.phase, now)
        self.last[event.phase] = now
        if event.phase is ScanPhase.HASHING:
            if self.hashed_first is None:
                self.hashed_first = event.bytes_hashed
            self.hashed_last = event.bytes_hashed

    def hashing_rate(self) -> tuple[float, float]:
        """(bytes/s, seconds) from the first to the last hashing event: the first event
        comes when the first pack is done, so that pack's bytes are left out too."""
        if self.hashed_first is None:
            return 0.0, 0.0
        seconds = self.last[ScanPhase.HASHING] - self.first[ScanPhase.HASHING]
        done = self.hashed_last - self.hashed_first
        return (done / seconds if seconds > 0 else 0.0), seconds

    def breakdown(self) -> str:
        marks = sorted(self.first.items(), key=lambda item: item[1])
        return ", ".join(f"{phase} from {at:.2f} s" for phase, at in marks)


async def timed_scan(database: Database, folder_id: uuid.UUID, options: ScanOptions) -> ScanTiming:
    """Run one scan with a heartbeat task that records the longest event-loop stall."""
    stalls = [0.0]
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            stalls[0] = max(stalls[0], now - last - 0.002)
            last = now

    beat = asyncio.create_task(heartbeat())
    clock = PhaseClock()
    last: ScanProgress | None = None
    async for event in FolderScanner(database, folder_id, options).progress():
        clock.see(event)
        last = event
    seconds = time.perf_counter() - clock.started
    done.set()
    await beat
    assert last is not None
    return ScanTiming(seconds, last, clock, stalls[0])


async def register(database: Database, root: Path) -> uuid.UUID:
    async with database.session(write=True) as session:
        return (await ensure_folder(session, str(root))).id


async def run_backend(name: str, urls: list[str], root: Path) -> BackendFigures:
    figures = BackendFigures(name)
    meta_only = ScanOptions(hash_files=False, thumbnails=False)
    with_hash = ScanOptions(thumbnails=False)
    database = await Database.open(urls[0])
    try:
        folder_id = await register(database, root)
        figures.metadata = await timed_scan(database, folder_id, meta_only)
        figures.hashing = await timed_scan(database, folder_id, with_hash)
        figures.rescan = await timed_scan(database, folder_id, with_hash)
    finally:
        await database.dispose()
    database = await Database.open(urls[1])
    try:
        folder_id = await register(database, root)
        figures.full = await timed_scan(database, folder_id, with_hash)
        figures.full_rescan = await timed_scan(database, folder_id, with_hash)
    finally:
        await database.dispose()
    return figures


# --- throw-away databases ------------------------------------------------------------------


class PgDatabases:
    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql")
        self.created: list[str] = []

    async def _run(self, sql: str) -> None:
        connection = await asyncpg.connect(self.url.render_as_string(hide_password=False))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create(self) -> str:
        name = f"filemeta_bench_{uuid.uuid4().hex[:10]}"
        await self._run(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    async def drop_all(self) -> None:
        for name in self.created:
            await self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            # Migration 0004 made group roles for the database; roles outlive it.
            for kind in ("owner", "admin", "guest", "definer"):
                await self._run(f'DROP ROLE IF EXISTS "{name}_{kind}"')


# --- report --------------------------------------------------------------------------------


@dataclass
class Anchors:
    find_s: float
    hash_one: tuple[float, int]
    """(seconds, bytes) of plain hashlib in one process."""
    hash_all: tuple[float, int]
    """The same in ``cores`` processes at once."""
    cores: int

    def mb_s(self, which: tuple[float, int]) -> float:
        return which[1] / which[0] / 1e6


def report(
    figures: list[BackendFigures], files: int, total_bytes: int, anchors: Anchors, load: str
) -> None:
    cores, one, both = anchors.cores, anchors.mb_s(anchors.hash_one), anchors.mb_s(anchors.hash_all)
    find_rate = files / anchors.find_s
    print(f"\nTree: {files:,} files, {total_bytes / 1e6:,.0f} MB; {cores} cores")
    print(f"Load average (1, 5, 15 min): {load}")
    print(f"Anchor find -printf: {anchors.find_s:.2f} s = {find_rate:,.0f} files/s")
    print(f"Anchor hashlib, 1 process: {anchors.hash_one[0]:.2f} s = {one:,.0f} MB/s")
    scaling = both / cores / one
    print(f"Anchor hashlib, {cores} processes: {anchors.hash_all[0]:.2f} s = {both:,.0f} MB/s "
          f"= {scaling:.0%} of {cores} x 1 process (what {cores} cores give)")  # fmt: skip
    for item in figures:
        _report_backend(item, files, anchors)
    if len(figures) > len({item.name for item in figures}):
        _report_spread(figures, files, anchors)


def _report_spread(figures: list[BackendFigures], files: int, anchors: Anchors) -> None:
    """Median and range of the headline figures over the rounds, per backend."""
    both = anchors.mb_s(anchors.hash_all)

    def spread(values: list[float], form: str) -> str:
        return (f"median {form.format(statistics.median(values))} "
                f"({form.format(min(values))} to {form.format(max(values))})")  # fmt: skip

    for name in dict.fromkeys(item.name for item in figures):
        rounds = [item for item in figures if item.name == name]
        metadata = [files / item.metadata.seconds for item in rounds if item.metadata]
        hashing = [item.hashing.clock.hashing_rate()[0] / 1e6 / both for item in rounds
                   if item.hashing]  # fmt: skip
        shares = [item.full_rescan.seconds / item.full.seconds for item in rounds
                  if item.full and item.full_rescan]  # fmt: skip
        print(f"\n== {name}, {len(rounds)} rounds ==")
        print(f"metadata-only scan: {spread(metadata, '{:,.0f}')} files/s (target >= 50,000)")
        print(f"hashing: {spread(hashing, '{:.0%}')} of hashlib in {anchors.cores} processes "
              f"(target >= 85%)")  # fmt: skip
        print(f"unchanged rescan after a full scan: {spread(shares, '{:.1%}')} of the first scan "
              f"(target <= 10%)")  # fmt: skip


def _report_backend(item: BackendFigures, files: int, anchors: Anchors) -> None:
    cores, one, both = anchors.cores, anchors.mb_s(anchors.hash_one), anchors.mb_s(anchors.hash_all)
    print(f"\n== {item.name} ==")
    meta, hashing, rescan = item.metadata, item.hashing, item.rescan
    full, full_rescan = item.full, item.full_rescan
    assert meta and hashing and rescan and full and full_rescan
    rate = files / meta.seconds
    print(f"metadata-only scan: {meta.seconds:.2f} s = {rate:,.0f} files/s (target >= 50,000); "
          f"find/ours = {anchors.find_s / meta.seconds:.2f}")  # fmt: skip
    print(f"  phases: {meta.clock.breakdown()}")
    byte_rate, span = hashing.clock.hashing_rate()
    mb_s = byte_rate / 1e6
    print(f"hashing (a scan hashing every file of the metadata-only library): {mb_s:,.0f} MB/s "
          f"over {span:.2f} s with {cores} workers = {mb_s / both:.0%} of hashlib in {cores} "
          f"processes, i.e. per core in use (target >= 85%); {mb_s / cores / one:.0%} of "
          f"{cores} x hashlib in 1 process; whole scan {hashing.seconds:.2f} s")  # fmt: skip
    print(f"  phases: {hashing.clock.breakdown()}")
    print(f"unchanged rescan (metadata-only library): {rescan.seconds:.2f} s "
          f"= {rescan.seconds / meta.seconds:.0%} of the metadata-only scan; "
          f"find/ours = {anchors.find_s / rescan.seconds:.2f}")  # fmt: skip
    share = full_rescan.seconds / full.seconds
    print(f"full first scan (walk + hash): {full.seconds:.2f} s ({full.clock.breakdown()})")
    print(f"  unchanged rescan after it: {full_rescan.seconds:.2f} s = {share:.1%} of the first "
          f"scan (target <= 10%); find/ours = {anchors.find_s / full_rescan.seconds:.2f}; "
          f"phases: {full_rescan.clock.breakdown()}")  # fmt: skip
    stalls = [t.max_stall for t in (meta, hashing, rescan, full, full_rescan)]
    print(f"longest event-loop stall (in process): {max(stalls) * 1000:.0f} ms")
    for timing in (meta, hashing, full):
        if timing.last.errors:
            print(f"  ({timing.last.errors} errors, e.g. {timing.last.error_samples[:1]})")


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--tree", type=Path, help="an existing tree (default: generate one)")
    parser.add_argument("--workdir", type=Path, help="where to put the tree and the SQLite file")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="a server database to create in")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="rounds of every scan, each on new libraries; then medians and ranges",
    )  # fmt: skip
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, root: Path, work: Path) -> list[BackendFigures]:
    """Every round runs each backend in turn, so that a slow spell of the machine falls on
    both rather than on one."""
    results: list[BackendFigures] = []
    for _ in range(max(args.repeat, 1)):
        results += await run_round(args, root, work)
    return results


async def run_round(args: argparse.Namespace, root: Path, work: Path) -> list[BackendFigures]:
    results = []
    backends = args.backends.split(",")
    if "sqlite" in backends:
        files = [work / "meta.sqlite3", work / "full.sqlite3"]
        for file in files:  # a --workdir used before: every library starts empty
            for stale in (file, Path(f"{file}-wal"), Path(f"{file}-shm")):
                stale.unlink(missing_ok=True)
        urls = [f"sqlite:///{file}" for file in files]
        results.append(await run_backend("SQLite", urls, root))
    if "postgresql" in backends:
        server = PgDatabases(args.pg_url)
        try:
            urls = [await server.create(), await server.create()]
            results.append(await run_backend("PostgreSQL", urls, root))
        finally:
            await server.drop_all()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="filemeta-bench-"))
    work.mkdir(parents=True, exist_ok=True)  # a new --workdir: the libraries go in it
    os.environ.setdefault("FILEMETA_CACHE_DIR", str(work / "cache"))
    root = args.tree or work / "tree"
    if args.tree is None:
        print(f"Making {args.files:,} files in {root} …", flush=True)
        make_tree(root, TreeSpec(files=args.files, seed=args.seed))
    paths = all_files(root)
    total = sum(os.stat(path).st_size for path in paths)
    cores = os.cpu_count() or 1
    load_before = _load()
    # Warm the dentry, inode and page caches: every figure is a warm-cache figure. The
    # anchors are taken before and after the scans and the faster one is used, so a cache
    # evicted meanwhile (this VM reclaims idle pages) cannot flatter our ratios.
    find_anchor(root)
    hashlib_anchor(paths)
    first = Anchors(find_anchor(root), hashlib_anchor(paths),
                    hashlib_processes_anchor(paths, cores), cores)  # fmt: skip
    freeze_startup_objects()  # as `filemeta scan` and the window's scan process do
    results = asyncio.run(run(args, root, work))
    anchors = Anchors(
        min(first.find_s, find_anchor(root)),
        min(first.hash_one, hashlib_anchor(paths)),
        min(first.hash_all, hashlib_processes_anchor(paths, cores)),
        cores,
    )
    report(results, len(paths), total, anchors, f"before {load_before}, after {_load()}")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
