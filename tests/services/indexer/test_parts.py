"""The indexer's parts on their own: sniffing, hashing, ordering, globs, ids."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.scan import ScanOptions
from filemeta_gui.repositories.index_writes import new_file_ids, set_hash_values, signed64
from filemeta_gui.services.indexer.content_type import content_type_for, sniff, split_extension
from filemeta_gui.services.indexer.hash_worker import CHUNK, hash_file
from filemeta_gui.services.indexer.hashing import HashJob, HashPool, colliding_first, packs
from filemeta_gui.services.indexer.walker import ExcludeMatcher, ThreadedWalk, WalkSettings
from tests.services.indexer.conftest import rows, scan_path, worker_processes


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xdb", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\0\0", "image/png"),
        (b"GIF89a..", "image/gif"),
        (b"GIF87a..", "image/gif"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
        (b"BM\x36\0\0\0", "image/bmp"),
        (b"II*\0\x08\0", "image/tiff"),
        (b"MM\0*\0\0", "image/tiff"),
        (b"%PDF-1.4", "application/pdf"),
        (b"PK\x03\x04\x14\0", "application/zip"),
        (b"\0\0\0\x18ftypmp42", "video/mp4"),
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_extension_rules(tmp_path: Path) -> None:
    assert split_extension("Photo.JPG") == ".jpg"
    assert split_extension(".bashrc") == ""
    assert split_extension("trailing.") == ""
    assert split_extension("x." + "a" * 40) == ""  # longer than the column
    path = tmp_path / "no-extension"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert content_type_for(str(path), "") == "image/png"
    assert content_type_for(str(path), ".txt") == "text/plain"  # a known extension wins
    assert content_type_for(str(tmp_path / "missing"), "") == "application/octet-stream"


def test_hash_file_matches_hashlib_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(CHUNK * 2 + 12_345)
    path.write_bytes(data)
    chunks: list[tuple[int, int]] = []

    digest, size, mtime_ns = hash_file(
        str(path),
        memoryview(bytearray(CHUNK)),
        lambda count, attempt: chunks.append((count, attempt)),
    )

    assert digest == hashlib.sha256(data).digest()
    assert (size, mtime_ns) == (len(data), path.stat().st_mtime_ns)
    assert chunks == [(CHUNK, 1), (CHUNK, 1), (12_345, 1)]


def test_empty_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    digest, size, _ = hash_file(str(path), memoryview(bytearray(CHUNK)), lambda *_: None)
    assert (digest, size) == (hashlib.sha256(b"").digest(), 0)


def test_colliding_sizes_come_first_and_packs_keep_order() -> None:
    jobs = [HashJob(name, name, size) for name, size in
            [("a", 10), ("b", 20), ("c", 10), ("d", 0), ("e", 0), ("f", 30)]]  # fmt: skip
    sizes = Counter(job.size for job in jobs)
    ordered = [job.key for job in colliding_first(jobs, sizes)]
    assert ordered == ["a", "c", "b", "d", "e", "f"]  # empty files are never "duplicates"
    many = [HashJob(index, str(index), 1 << 20) for index in range(100)]
    grouped = packs(many)
    assert [job.key for pack in grouped for job in pack] == list(range(100))
    assert all(sum(job.size for job in pack) <= 32 << 20 for pack in grouped)


def test_exclude_globs_match_names_and_relative_paths() -> None:
    excluded = ExcludeMatcher("/data", ["*.tmp", "node_modules", "photos/raw/*", "cache/"])
    assert excluded("/data/x/file.tmp", "file.tmp")
    assert excluded("/data/app/node_modules", "node_modules")
    assert excluded("/data/photos/raw/img.cr2", "img.cr2")
    assert excluded("/data/cache", "cache")
    assert not excluded("/data/photos/img.jpg", "img.jpg")
    assert not ExcludeMatcher("/data", [])("/data/a", "a")


def test_new_ids_are_version_7_and_carry_the_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = [uuid.UUID(hex) for _ in range(500) for hex in new_file_ids(2)]
    after = time.time_ns() // 1_000_000
    assert all(value.version == 7 and value.variant == "specified in RFC 4122" for value in ids)
    stamps = [int(value.hex[:12], 16) for value in ids]
    assert before <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= after


def test_signed64_wraps_large_inode_numbers() -> None:
    assert signed64(5) == 5
    assert signed64((1 << 64) - 1) == -1
    assert -(1 << 63) <= signed64(1 << 63) < 0


@pytest.mark.parametrize("processes", [True, False])
async def test_hash_pool_in_processes_and_threads(tmp_path: Path, processes: bool) -> None:
    files = {name: os.urandom(size) for name, size in [("a", 0), ("b", 10), ("c", CHUNK * 3 + 7)]}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder").mkdir()
    jobs = [HashJob(name, str(tmp_path / name), len(data)) for name, data in files.items()]
    # Failures between successes: each reason must reach its own file.
    jobs.insert(1, HashJob("gone", str(tmp_path / "gone"), 5))
    jobs.insert(3, HashJob("dir", str(tmp_path / "folder"), 0))
    # What the row holds: the same stats (only the hash is new) or stale ones.
    stat_b = (tmp_path / "b").stat()
    jobs.append(HashJob("b-same", str(tmp_path / "b"), 10, stat_b.st_mtime_ns))
    jobs.append(HashJob("b-stale", str(tmp_path / "b"), 10, stat_b.st_mtime_ns - 1))
    pool = HashPool(workers=2, processes=processes)
    try:
        results = {r.key: r async for pack in pool.results(jobs) for r in pack or ()}
    finally:
        await pool.close()

    assert pool.processes is processes
    for name, data in files.items():
        assert results[name].digest == hashlib.sha256(data).hexdigest()
        assert results[name].size == len(data)
    assert results["gone"].vanished and results["gone"].digest is None
    assert results["gone"].error == "vanished before it was read"
    assert "no longer a regular file" in (results["dir"].error or "")
    assert not results["dir"].vanished
    assert results["b-same"].same_stats and results["b-same"].mtime_ns == stat_b.st_mtime_ns
    assert not results["b-stale"].same_stats and not results["b"].same_stats
    assert pool.counter.value == sum(len(data) for data in files.values()) + 2 * 10
    assert not worker_processes(b"hash_worker")


async def test_closing_a_busy_process_pool_kills_its_workers(tmp_path: Path) -> None:
    jobs = []
    for index in range(64):
        path = tmp_path / f"f{index}"
        path.write_bytes(os.urandom(256 << 10))
        jobs.append(HashJob(index, str(path), 256 << 10))
    pool = HashPool(workers=2, processes=True)
    packs_seen = 0
    async for pack in pool.results(jobs):
        packs_seen += pack is not None
        break  # walk away with work still in flight
    await pool.close()
    assert packs_seen == 1
    assert not worker_processes(b"hash_worker")


async def test_a_paused_walk_lists_nothing_until_resumed(tmp_path: Path) -> None:
    """The scan holds the walk while it writes (``ThreadedWalk.paused``)."""
    for folder in range(20):
        (tmp_path / f"f{folder}").mkdir()
        for name in range(5):
            (tmp_path / f"f{folder}" / f"{name}.txt").write_text("x")
    walk = ThreadedWalk(WalkSettings(root=str(tmp_path), batch_size=5))
    batches = walk.batches()
    try:
        with walk.paused():
            walk.start()
            waiting = asyncio.ensure_future(anext(batches))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            assert walk.report.folders == 0
        first = await asyncio.wait_for(waiting, 10)
        rest = [entry async for batch in batches for entry in batch]
    finally:
        await batches.aclose()
        await walk.close()
    assert len(first) + len(rest) == 100
    assert walk.report.folders == 21


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_batch_updates_join_by_key_and_leave_the_planner_as_it_was(
    database: Database, tree: Path
) -> None:
    """The batch join is steered away from hashing the whole table, for that statement
    only: what runs after it in the same transaction is planned as usual."""
    await scan_path(database, tree, ScanOptions(hash_files=False))
    target = (await rows(database))[str(tree / "a.txt")]
    async with database.session(write=True) as session:
        await set_hash_values(session, [(target.id, "ab" * 32)])
        settings = await session.execute(
            text("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin')")
        )
        assert tuple(settings.one()) == ("on", "on")
    assert (await rows(database))[str(tree / "a.txt")].hash_value == "ab" * 32
