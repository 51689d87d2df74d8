"""One run, every figure of issue 8: a 1M-file library on SQLite and PostgreSQL, the window
over it, and the fastest tools on a 100k-file tree as anchors.

    python benchmarks/make_library.py                # once: the two 1M libraries (~2.5 min)
    python benchmarks/make_tree.py /tmp/fm_bench/tree100k --files 100000   # once
    python benchmarks/bench_million.py               # ~10 min on 2 cores

Everything goes through the app's own services, as the window calls them:
``LibraryService.page(query, PageRequest(...))`` for pages and searches (the first 200
results), ``LibraryService.count``, ``DuplicateService.groups``. PostgreSQL is reached as
``postgres``, a superuser, which row-level security (migration 0004) does not filter: the
figures are an admin's. Each timing is taken ``--runs`` times after two warm-up runs;
p50/p95 in milliseconds. The window runs offscreen in a subprocess (``gui_million.py``);
the anchors are in ``million_anchors.py``. ``--json FILE`` keeps the raw figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.make_library import DEFAULT_PG, DEFAULT_PG_DB, pg_url, sqlite_path
from benchmarks.million_anchors import TERMS, run_anchors
from benchmarks.million_report import print_report
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories.files import FileRepository
from filemeta_gui.services.container import Services
from filemeta_gui.startup import freeze_startup_objects

DEPTH = 500_000
WALK_PAGE = 10_000
RESORTS = (
    ("size, largest first", SortColumn.SIZE, True),
    ("modified, newest first", SortColumn.MODIFIED, True),
    ("indexed, newest first", SortColumn.INDEXED, True),
    ("type", SortColumn.TYPE, False),
    ("folder", SortColumn.FOLDER, False),
    ("hash", SortColumn.HASH, False),
    ("name, Z to A", SortColumn.NAME, True),
)
FILTERS = ("type:image", "type:video", "ext:jpg", "size:>100MB", "modified:2019")
TAGS = ("tag:people", "tag:reef")
LONG_TERMS = (("zanzibar", "rare"), ("beach", "common"), ("2019", "very common"), ("img", "19%"))
SHORT_TERMS = ("a", "ab", "20", "qz")
UNUSUAL = (
    "tag:nosuchtag", "-tag:people", "tag:reef beach", "path:*qz*", "qz OR zanzibar",
    "type:video -beach", "NOT a", "img type:image", "ext:pdf report",
    "size:>10MB type:image", "modified:2020 type:image",
)  # fmt: skip
"""Queries that once took seconds on one backend or the other: timed in every run, so
that none comes back unseen."""
UNUSUAL_ORDERS = (
    ("pdf", "type, Z to A", SortColumn.TYPE, True),
    ("pdf", "folder, Z to A", SortColumn.FOLDER, True),
    ("beach", "size, largest first", SortColumn.SIZE, True),
    ("img", "type, Z to A", SortColumn.TYPE, True),
    ("type:video", "type", SortColumn.TYPE, False),
    ("modified:2020 type:image", "type", SortColumn.TYPE, False),
)
"""Words in orders other than the name, and type filters in type order, where
PostgreSQL's planner walked the sort index past nearly every file
(``search_plan._walk_budget``, ``search_plan._type_runs``)."""

Timer = Callable[[], Awaitable[object]]


async def timed(call: Timer, runs: int, warmup: int = 2) -> dict[str, float]:
    samples = []
    for index in range(runs + warmup):
        started = time.perf_counter()
        await call()
        if index >= warmup:
            samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]
    return {"p50": statistics.median(samples), "p95": p95, "runs": runs}


def first_page(services: Services, query: str, sort: SortColumn, desc: bool = False) -> Timer:
    request = PageRequest(sort=sort, descending=desc, limit=200)
    return lambda: services.library.page(query, request)


async def depth_cursor(services: Services) -> tuple[Any, float]:
    """The cursor after row DEPTH, walked to in pages of WALK_PAGE rows (the keyset way)."""
    started, after = time.perf_counter(), None
    for _ in range(DEPTH // WALK_PAGE):
        page = await services.library.page("", PageRequest(limit=WALK_PAGE, after=after))
        after = page.next_after
    return after, time.perf_counter() - started


async def bench_pages(services: Services, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["first page"] = await timed(first_page(services, "", SortColumn.NAME), runs)
    after, walk_s = await depth_cursor(services)
    request = PageRequest(limit=200, after=after)
    out["page at depth 500,000"] = await timed(lambda: services.library.page("", request), runs)
    out["page at depth 500,000"]["walk_s"] = walk_s
    anchors = getattr(services.library, "anchors", None)
    if anchors is not None:  # what the window uses to jump: cursors of every 200th row
        started = time.perf_counter()
        await anchors("", SortColumn.NAME, False, 200)
        out["anchors pass (every 200th row)"] = {"ms": (time.perf_counter() - started) * 1000}
    for label, sort, desc in RESORTS:
        out[f"re-sort: {label}"] = await timed(first_page(services, "", sort, desc), runs)
    for query in FILTERS + TAGS:
        out[f"filter {query}"] = await timed(first_page(services, query, SortColumn.NAME), runs)
    return out


async def bench_search(services: Services, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for term, label in LONG_TERMS:
        count = await services.library.count(term)
        entry = await timed(first_page(services, term, SortColumn.NAME), runs)
        out[f"search {term!r} ({label}, {count:,} files)"] = entry
    for term in SHORT_TERMS:
        count = await services.library.count(term)
        entry = await timed(first_page(services, term, SortColumn.NAME), runs)
        out[f"search {term!r} (1-2 chars, {count:,} files)"] = entry
    return out


async def bench_unusual(services: Services, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for query in UNUSUAL:
        call = first_page(services, query, SortColumn.NAME)
        out[f"unusual query {query!r}"] = await timed(call, max(runs // 4, 3), warmup=1)
    for query, label, sort, desc in UNUSUAL_ORDERS:
        call = first_page(services, query, sort, desc)
        out[f"unusual query {query!r} by {label}"] = await timed(call, max(runs // 4, 3), 1)
    return out


async def bench_other(services: Services, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["count, whole library"] = await timed(lambda: services.library.count(""), runs // 4 or 1)
    out["count, type:image"] = await timed(lambda: services.library.count("type:image"), 3)
    out["sidebar: folders + tags with counts"] = await timed(
        lambda: asyncio.gather(services.folders.list(), services.tags.list()), 3
    )
    async with services.database.session() as session:
        started = time.perf_counter()
        groups = await FileRepository(session).duplicate_group_count()
        out["duplicate groups: count"] = {"ms": (time.perf_counter() - started) * 1000}
    out["duplicate groups: count"]["groups"] = groups
    first = await timed(lambda: services.duplicates.groups(limit=100), 3, warmup=1)
    out["duplicate groups: first 100"] = first
    started = time.perf_counter()
    every = await services.duplicates.groups()
    out["duplicate groups: all"] = {"ms": (time.perf_counter() - started) * 1000}
    out["duplicate groups: all"]["groups"] = len(every)
    return out


async def bench_library(url: str, runs: int) -> dict[str, Any]:
    services = await Services.open(url)
    freeze_startup_objects()  # as the app does once the library is open
    try:
        result = {"files": await services.library.count("")}
        result |= await bench_pages(services, runs)
        result |= await bench_search(services, runs)
        result |= await bench_unusual(services, runs)
        result |= await bench_other(services, runs)
        return result
    finally:
        await services.close()


def bench_gui(url: str, workdir: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FILEMETA_DATA_DIR": str(workdir / "gui-data"),
        "FILEMETA_CACHE_DIR": str(workdir / "gui-cache"),
        "XDG_CONFIG_HOME": str(workdir / "gui-config"),
    }
    script = Path(__file__).with_name("gui_million.py")
    done = subprocess.run(
        [sys.executable, str(script), "--db", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout).strip()[-2000:]}
    return dict(json.loads(lines[-1]))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fm_bench"))
    parser.add_argument("--files", type=int, default=1_000_000, help="library size to open")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--pg-db", default=DEFAULT_PG_DB)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--tree", type=Path, help="default: WORKDIR/tree100k")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip", default="", help="comma list of: gui, anchors")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    skip = set(filter(None, args.skip.split(",")))
    urls = {
        "SQLite": f"sqlite:///{sqlite_path(args.workdir, args.files)}",
        "PostgreSQL": pg_url(args.pg_url, args.pg_db),
    }
    chosen = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    figures: dict[str, Any] = {"load": os.getloadavg(), "cores": os.cpu_count(), "terms": TERMS}
    for key in args.backends.split(","):
        name = chosen[key]
        print(f"{name}: library …", flush=True)
        figures[name] = asyncio.run(bench_library(urls[name], args.runs))
        if "gui" not in skip:
            print(f"{name}: window …", flush=True)
            figures[name]["gui"] = bench_gui(urls[name], args.workdir)
    if "anchors" not in skip:
        tree = args.tree or args.workdir / "tree100k"
        print(f"anchors on {tree} …", flush=True)
        figures["anchors"] = run_anchors(tree, args.workdir)
    figures["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    print_report(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
