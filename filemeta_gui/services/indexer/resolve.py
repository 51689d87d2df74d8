"""After the walk: moves, new files that were move candidates, removals; storing hashes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.paths import display
from filemeta_gui.domain.scan import ScanOptions, ScanProgress
from filemeta_gui.repositories import index_writes as writes
from filemeta_gui.repositories.index_writes import KnownRow, signed64
from filemeta_gui.services.indexer.hash_phase import TICK_SECONDS
from filemeta_gui.services.indexer.hashing import HashJob, HashPool, HashResult
from filemeta_gui.services.indexer.moves import Move, MoveMatcher
from filemeta_gui.services.indexer.plan import NewFile, Planner
from filemeta_gui.services.indexer.progress import ScanCounters
from filemeta_gui.services.indexer.thumbnails import ThumbnailJob

WriteFn = Callable[[], AbstractAsyncContextManager[AsyncSession]]


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class Resolver:
    """Writes what only the end of the walk can decide, and the hashes found later."""

    def __init__(
        self,
        planner: Planner,
        options: ScanOptions,
        counters: ScanCounters,
        thumbnail_keys: set[Any],
        cancelled: Callable[[], bool],
    ) -> None:
        self.planner = planner
        self.options = options
        self.counters = counters
        self.thumbnail_keys = thumbnail_keys
        self.cancelled = cancelled
        self.thumbnail_jobs: list[ThumbnailJob] = []
        self.more_hash_jobs: list[HashJob] = []

    async def run(
        self,
        matcher: MoveMatcher,
        candidates: list[NewFile],
        pool: HashPool,
        write: WriteFn,
    ) -> AsyncGenerator[ScanProgress, None]:
        """Match candidates (by inode, then by hash), then write moves, news and removals.

        If the scan is cancelled while candidates are hashed, nothing is written: the next
        scan finds the same vanished and new paths and decides again.
        """
        moves: list[tuple[Move, HashResult | None]] = []
        waiting: list[NewFile] = []
        for candidate in candidates:
            move = matcher.by_inode(candidate)
            if move is not None:
                moves.append((move, None))
            else:
                waiting.append(candidate)
        hashed: dict[int, HashResult] = {}
        if waiting and self.options.hash_files:
            async for snapshot in self._hash_candidates(waiting, pool, hashed):
                yield snapshot
            if self.cancelled():
                return
        unmatched: list[tuple[NewFile, HashResult | None]] = []
        for index, candidate in enumerate(waiting):
            result = hashed.get(index)
            move = None
            if result is not None and result.digest is not None:
                move = matcher.by_hash(candidate, result.digest, result.size)
            if move is not None:
                moves.append((move, result))
            else:
                unmatched.append((candidate, result))
        await self._write_moves(moves, write)
        await self._write_new(unmatched, write)
        await self._write_removals(matcher.left_vanished(), write)
        yield self.counters.snapshot()

    async def _hash_candidates(
        self, waiting: list[NewFile], pool: HashPool, hashed: dict[int, HashResult]
    ) -> AsyncGenerator[ScanProgress, None]:
        jobs = [HashJob(index, new.entry.path, new.entry.size) for index, new in enumerate(waiting)]
        self.counters.bytes_to_hash += sum(job.size for job in jobs)
        async for pack in pool.results(jobs, TICK_SECONDS):
            for result in pack or ():
                hashed[result.key] = result
            yield self.counters.snapshot()
            if self.cancelled():
                return

    async def _write_moves(
        self, moves: list[tuple[Move, HashResult | None]], write: WriteFn
    ) -> None:
        rows = [_moved_row(move, result) for move, result in moves]
        for chunk in chunks(rows, self.options.batch_size):
            async with write() as session:
                await writes.apply_moves(session, chunk)
            self.counters.moved += len(chunk)

    async def _write_new(
        self, unmatched: list[tuple[NewFile, HashResult | None]], write: WriteFn
    ) -> None:
        for chunk in chunks(unmatched, self.options.batch_size):
            inserts, hashes = [], []
            ids = iter(self.planner.codec.new_ids(len(chunk)))
            for new, result in chunk:
                if result is not None and result.error is not None:
                    self.counters.issue(display(new.entry.path), result.error)
                    if result.vanished:
                        continue
                row_id = next(ids)
                inserts.append(self.planner.insert_row(row_id, new))
                if result is not None and result.digest is not None:
                    hashes.append(self._hashed(row_id, new, result))
                elif result is None and self.options.hash_files:
                    self.more_hash_jobs.append(HashJob(row_id, new.entry.path, new.entry.size))
            async with write() as session:
                self.counters.new += await writes.insert_files(session, inserts)
                await writes.set_hashes(session, hashes)

    def _hashed(self, row_id: Any, new: NewFile, result: HashResult) -> tuple[Any, str, int, int]:
        assert result.digest is not None
        self.counters.hashed += 1
        self.counters.bytes_hashed += result.size
        if self.planner.wants_thumbnail(new.content_type):
            self.thumbnail_jobs.append(ThumbnailJob(row_id, new.entry.path, result.digest))
        return (row_id, result.digest, result.size, result.mtime_ns)

    async def _write_removals(self, rows: list[KnownRow], write: WriteFn) -> None:
        when = self.planner.codec.driver_time(utcnow())
        for chunk in chunks([row.id for row in rows], self.options.batch_size):
            async with write() as session:
                self.counters.removed += await writes.soft_delete(session, chunk, when)

    async def store_hashes(self, results: Sequence[HashResult], write: WriteFn) -> None:
        """Commit a batch of hash results; vanished files are soft-deleted, errors listed."""
        rows: list[tuple[Any, str, int, int]] = []
        hash_only: list[tuple[Any, str]] = []
        gone: list[Any] = []
        thumbnails: list[ThumbnailJob] = []
        hashed_bytes = 0
        for result in results:
            if result.digest is not None:
                hashed_bytes += result.size
                if result.same_stats:
                    hash_only.append((result.key, result.digest))
                else:
                    rows.append((result.key, result.digest, result.size, result.mtime_ns))
                if result.key in self.thumbnail_keys:
                    thumbnails.append(ThumbnailJob(result.key, result.path, result.digest))
                continue
            self.counters.issue(display(result.path), result.error or "not hashed")
            self.counters.bytes_to_hash -= result.size  # it will never be hashed
            if result.vanished:
                gone.append(result.key)
        when = self.planner.codec.driver_time(utcnow())
        async with write() as session:
            await writes.set_hash_values(session, hash_only)
            await writes.set_hashes(session, rows)
            removed = await writes.soft_delete(session, gone, when)
        self.counters.hashed += len(hash_only) + len(rows)
        self.counters.bytes_hashed += hashed_bytes
        self.counters.removed += removed
        self.thumbnail_jobs.extend(thumbnails)


def _moved_row(move: Move, result: HashResult | None) -> tuple[Any, ...]:
    new, entry = move.new, move.new.entry
    size, mtime_ns = entry.size, entry.mtime_ns
    if result is not None and result.digest is not None:
        size, mtime_ns = result.size, result.mtime_ns
    text, raw = new.stored
    return (
        move.row.id, text, raw, new.filename, new.extension, size, mtime_ns,
        new.content_type, signed64(entry.inode), signed64(entry.device),
    )  # fmt: skip


async def build_matcher(
    known: dict[str, KnownRow], seen: set[str], unlisted: list[str]
) -> MoveMatcher:
    """In a thread: it looks at every known row of the folder."""
    return await asyncio.to_thread(MoveMatcher, known, seen, unlisted)
