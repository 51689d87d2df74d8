"""Anchors for ``bench_million.py``: the fastest tools, on the same 100k-file tree, same run.

* ``find`` walking the tree (stat of every file, printing size, mtime and path);
* ``plocate``: ``updatedb`` into a private database (``-U tree -o file``), then searches,
  against ``filemeta scan --no-hash`` and FileMeta's search on the library it made;
* ``jdupes -r`` against ``filemeta scan`` + ``filemeta dupes``, first run (a new library)
  and second run (the tree unchanged: jdupes has no memory, FileMeta rescans).

A tool that is not installed is reported "not installed" (``apt-get install plocate
jdupes``). Every run is on a warm page cache: the tree is read once first.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from filemeta_gui.domain.records import PageRequest
from filemeta_gui.services.container import Services

TERMS = {"rare": "file_0012345", "common": "file_001"}
"""Search terms over make_tree's names: 1 file and 1,000 files (100k tree)."""
SEARCH_RUNS = 20
# The ``filemeta`` command, installed or not (cli has no __main__).
FILEMETA = [sys.executable, "-c", "import sys; from filemeta_gui.cli import main; sys.exit(main())"]


def _run(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def _median_run(command: Sequence[str], runs: int) -> float:
    return statistics.median(_run(command) for _ in range(runs))


def warm(tree: Path) -> None:
    """Read every file once, so every tool below starts from the same warm cache."""
    subprocess.run(
        ["find", str(tree), "-type", "f", "-exec", "cat", "{}", "+"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def filemeta(workdir: Path, db: str, *args: str) -> float:
    env = {
        **os.environ,
        "FILEMETA_DATA_DIR": str(workdir / "cli-data"),
        "FILEMETA_CACHE_DIR": str(workdir / "cli-cache"),
    }
    return _run([*FILEMETA, "--db", db, *args], env)


async def our_search(db: str) -> dict[str, float]:
    """p50 ms of the first 200 results of each term, through the app's LibraryService."""
    services = await Services.open(db)
    found: dict[str, float] = {}
    try:
        for label, term in TERMS.items():
            times = []
            for _ in range(SEARCH_RUNS + 2):
                started = time.perf_counter()
                await services.library.page(term, PageRequest(limit=200))
                times.append((time.perf_counter() - started) * 1000)
            found[label] = statistics.median(times[2:])
    finally:
        await services.close()
    return found


def plocate(tree: Path, workdir: Path) -> dict[str, Any]:
    if not (shutil.which("plocate") and shutil.which("updatedb")):
        return {"installed": False}
    database = workdir / "plocate.db"
    build = _run(["updatedb", "-U", str(tree), "-o", str(database), "-l", "0"])
    searches = {
        label: _median_run(["plocate", "-i", "-d", str(database), term], SEARCH_RUNS) * 1000
        for label, term in TERMS.items()
    }
    return {"installed": True, "updatedb_s": build, "search_ms": searches}


def jdupes(tree: Path) -> dict[str, Any]:
    if not shutil.which("jdupes"):
        return {"installed": False}
    command = ["jdupes", "-r", "-q", str(tree)]
    return {"installed": True, "first_s": _run(command), "second_s": _run(command)}


def ours(tree: Path, workdir: Path) -> dict[str, Any]:
    """``filemeta scan`` + ``filemeta dupes`` twice on a new SQLite library; and a
    metadata-only scan (no hashing) on another, the counterpart of ``updatedb``."""
    result: dict[str, Any] = {}
    for name in ("scan-meta.sqlite3", "scan.sqlite3"):
        for stale in workdir.glob(name + "*"):
            stale.unlink()
    meta_db = f"sqlite:///{workdir / 'scan-meta.sqlite3'}"
    result["meta_scan_s"] = filemeta(workdir, meta_db, "scan", "--no-hash", str(tree))
    db = f"sqlite:///{workdir / 'scan.sqlite3'}"
    for run in ("first", "second"):
        scan = filemeta(workdir, db, "scan", str(tree))
        dupes = filemeta(workdir, db, "dupes")
        result[run] = {"scan_s": scan, "dupes_s": dupes, "total_s": scan + dupes}
    result["search_ms"] = asyncio.run(our_search(db))
    return result


def run_anchors(tree: Path, workdir: Path) -> dict[str, Any]:
    warm(tree)
    files = sum(len(names) for _, _, names in os.walk(tree))
    find_s = _median_run(["find", str(tree), "-type", "f", "-printf", "%s %T@ %p\\n"], 3)
    return {
        "files": files,
        "find_s": find_s,
        "jdupes": jdupes(tree),
        "ours": ours(tree, workdir),
        "plocate": plocate(tree, workdir),
    }
