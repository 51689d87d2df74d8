"""``FolderScanner``: one scan of one folder, reported as an async iterator of snapshots.

The phases, each ending in committed transactions so that stopping at any point leaves a
consistent library that the next scan simply continues:

1. walking — the tree is listed by a walk worker process (``walker``; threads where none can
   start) while the folder's known rows are loaded (one query); each batch is then
   classified and written in one transaction: new rows, changed stats, restored rows.
   Unchanged files cost a dictionary lookup, nothing more.
2. resolving — vanished paths are matched to new ones (``moves``) and the rest are
   soft-deleted. Nothing is deleted before the walk has finished.
3. hashing — new, changed and never-hashed files, size-colliding ones first.
4. thumbnails — images whose hash is known and that have no thumbnail yet.

Every blocking step runs in a thread; the event loop only awaits and merges results.
``cancel()`` stops at the next step and ends with a ``cancelled`` snapshot; cancelling the
consuming task (or closing the iterator) works too and cleans up the same way.
"""

from __future__ import annotations

import asyncio
import gc
import os
import stat
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui import config
from filemeta_gui.db.engine import Database
from filemeta_gui.db.errors import translate_error
from filemeta_gui.db.models import Folder
from filemeta_gui.db.query_context import operation
from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.errors import NotFoundError
from filemeta_gui.domain.paths import display, from_stored
from filemeta_gui.domain.scan import ScanError, ScanOptions, ScanPhase, ScanProgress
from filemeta_gui.repositories import index_writes as writes
from filemeta_gui.repositories.index_writes import KnownRow, RowCodec
from filemeta_gui.services.indexer.bulk import (
    BULK_MIN_ROWS,
    BulkLoad,
    indexes_need_repair,
    repair_indexes,
)
from filemeta_gui.services.indexer.hash_phase import hash_phase
from filemeta_gui.services.indexer.hashing import (
    HashJob,
    HashPool,
    HashResult,
)
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.plan import BatchPlan, NewFile, Planner
from filemeta_gui.services.indexer.progress import ScanCounters
from filemeta_gui.services.indexer.resolve import Resolver, build_matcher
from filemeta_gui.services.indexer.thumbnailing import Thumbnailer
from filemeta_gui.services.indexer.thumbnails import ThumbnailJob
from filemeta_gui.services.indexer.walker import DEFAULT_THREADS, Walk, WalkSettings, walk_for

# SQLite's default page cache is 2 MB; a library of 100k files is ~100 MB, and a scan
# re-reads the same pages in every transaction. Applies to the connection, from now on.
SQLITE_CACHE_KIB = 65_536


def scan_folder(
    database: Database,
    folder_id: uuid.UUID,
    options: ScanOptions | None = None,
    *,
    owner_id: uuid.UUID | None = None,
    hooks: ScanHooks | None = None,
) -> AsyncIterator[ScanProgress]:
    """Scan a registered folder; iterate for progress snapshots (the last has ``done``)."""
    return FolderScanner(database, folder_id, options, owner_id=owner_id, hooks=hooks).progress()


def check_root(path: str) -> None:
    """Raise ``ScanError`` unless ``path`` is a folder we can list (runs in a thread)."""
    shown = display(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ScanError(f"The folder {shown} does not exist (is its drive connected?).") from None
    except OSError as error:
        raise ScanError(f"The folder {shown} cannot be read: {error.strerror}.") from error
    if not stat.S_ISDIR(info.st_mode):
        raise ScanError(f"{shown} is not a folder.")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ScanError(f"The folder {shown} cannot be read: permission denied.")


class FolderScanner:
    def __init__(
        self,
        database: Database,
        folder_id: uuid.UUID,
        options: ScanOptions | None = None,
        *,
        owner_id: uuid.UUID | None = None,
        hooks: ScanHooks | None = None,
        cache_dir: Path | None = None,
        walker_threads: int | None = None,
        bulk_min_rows: int = BULK_MIN_ROWS,
        hash_workers: int | None = None,
    ) -> None:
        self.database = database
        self.folder_id = folder_id
        self.options = options or ScanOptions()
        self.owner_id = owner_id
        self.hooks = hooks or ScanHooks()
        self.cache_dir = cache_dir or config.thumbnail_dir()
        self.walker_threads = walker_threads
        self.bulk_min_rows = bulk_min_rows
        self.hash_workers = hash_workers
        self._bulk = BulkLoad(self._write, 0, False, -1)
        self.counters = ScanCounters(folder_id)
        self.cancelled = False
        self._writes = 0
        self._walk: Walk | None = None
        self._hasher: HashPool | None = None
        self._thumbnailer: Thumbnailer | None = None
        self._codec: RowCodec | None = None
        self._known: dict[str, KnownRow] = {}
        self._seen: set[str] = set()
        self._sizes: Counter[int] = Counter()
        self._hash_jobs: list[HashJob] = []
        self._thumbnail_keys: set[Any] = set()
        self._pending_thumbnails: list[ThumbnailJob] = []
        self._candidates: list[NewFile] = []
        self._resolver: Resolver | None = None

    def cancel(self) -> None:
        """Stop soon; what is committed stays, and the iterator ends with a cancelled event."""
        self.cancelled = True
        for stoppable in (self._walk, self._hasher, self._thumbnailer):
            if stoppable is not None:
                stoppable.stop.set()

    async def progress(self) -> AsyncGenerator[ScanProgress, None]:
        try:
            async with aclosing(self._phases()) as phases:
                async for snapshot in phases:
                    yield snapshot
        finally:
            await self._close()

    async def _phases(self) -> AsyncGenerator[ScanProgress, None]:
        planner = await self._prepare()
        yield self.counters.snapshot()
        steps = (
            (self._walking(planner), None),
            (self._resolving(planner), self._bulk.paths_final),
            (self._hashing(), self._bulk.finish),
        )
        for step, then in steps:
            async with aclosing(step):
                async for snapshot in step:
                    yield snapshot
            if self.cancelled:
                yield self.counters.snapshot(done=True, cancelled=True)
                return
            if then is not None:
                await then()
        assert self._resolver is not None
        thumbnails = self._thumbnailer_for(self._resolver.thumbnail_jobs)
        async with aclosing(thumbnails.run(self.counters, self._write)) as making:
            async for snapshot in making:
                yield snapshot
        if not self.cancelled:
            async with self._write() as session:
                await writes.finish_folder(session, self.folder_id, utcnow())
        yield self.counters.snapshot(done=True, cancelled=self.cancelled)

    # --- preparing ---------------------------------------------------------------------------

    async def _prepare(self) -> Planner:
        async with self.database.session() as session:
            folder = await session.get(Folder, self.folder_id)
            if folder is None:
                raise NotFoundError("That folder is no longer in the library.")
            nested = await writes.nested_folders(session, folder)
            first_scan = not await writes.folder_has_files(session, folder.id)
        root = from_stored(folder.path, folder.raw_path)
        if not os.path.isabs(root):
            raise ScanError(f"The folder {folder.path} is not an absolute path.")
        await asyncio.to_thread(check_root, root)
        self._walk = self._walker(folder, root, nested, first_scan)
        # A walk in its own process starts now and runs beside everything below (counting
        # a library of 1M rows alone takes 45-100 ms). A walk in threads starts after the
        # load, not during it: both are GIL-bound per row; at 100k files the load took
        # 1.8 s while the walk ran and 0.4-0.6 s on its own.
        if self._walk.runs_beside_the_scan:
            self._walk.start()
        async with self.database.session() as session:
            library_rows = await writes.count_files(session)
            broken = await indexes_need_repair(session)
        if broken:  # a scan died mid-load: first put its indexes back
            await repair_indexes(self._write)
        dialect = self.database.engine.dialect
        self._bulk = BulkLoad(
            self._write, library_rows, dialect.name == "postgresql", self.bulk_min_rows
        )
        self._codec = RowCodec(dialect, self.folder_id, self.owner_id)
        self._known = await self._load_known()
        upload_time = self._codec.driver_time(utcnow())
        planner = Planner(self._known, self._codec, self.options, upload_time)
        self.counters.expected_files = planner.live_rows
        return planner

    def _walker(self, folder: Folder, root: str, nested: list[str], first_scan: bool) -> Walk:
        """``first_scan``: every file is new and needs its type, so the walk reads the
        first bytes of those whose extension says nothing (21.5% of the benchmark tree:
        0.5-1.0 s per 100k files of the scan's own time, when the planner did it)."""
        settings = WalkSettings(
            root=root.rstrip("/") or "/",
            follow_symlinks=self.options.follow_symlinks or folder.follow_symlinks,
            excludes=tuple(folder.excludes.splitlines()) + self.options.excludes,
            skip_dirs=frozenset(nested),
            threads=self.walker_threads or DEFAULT_THREADS,
            batch_size=self.options.batch_size,
            sniff=first_scan,
        )
        return walk_for(settings, self.hooks)

    async def _load_known(self) -> dict[str, KnownRow]:
        known: dict[str, KnownRow] = {}
        # Half a million objects that live until the scan ends: each collection while they
        # were made walked all made so far, and every full one during the walk walked them
        # again (100k files: 110-215 ms of an unchanged rescan's 1.1 s in collections).
        # Made with the collector off, then frozen, they cost the collector nothing; they
        # are freed by reference counting as usual (rows hold no cycles).
        collecting = gc.isenabled()
        gc.disable()
        try:
            async with self.database.engine.connect() as connection:
                async for partition in writes.load_known(connection, self.folder_id):
                    known.update(partition)
        except SQLAlchemyError as error:  # connecting failed: what Database.session does
            raise translate_error(error) from error
        finally:
            if collecting:
                gc.enable()
        gc.freeze()
        return known

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction; the ``in_write`` hook runs first inside it."""
        with operation("indexer.scan"):
            async with self.database.session(write=True) as session:
                if self.database.is_sqlite:
                    await session.execute(text(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}"))
                self._writes += 1
                if self.hooks.in_write is not None:
                    await self.hooks.in_write(session, self._writes)
                yield session

    # --- walking -----------------------------------------------------------------------------

    async def _walking(self, planner: Planner) -> AsyncGenerator[ScanProgress, None]:
        """Plan and write each batch here, with walker threads held meanwhile.

        Overlapping them looked free on two cores and was not: every ``stat`` of the walk
        and every row SQLite steps through gives the GIL away and waits to get it back
        from whichever thread runs Python (see ``ThreadedWalk.paused``). Measured at
        100k files: 11.2 s for a metadata-only scan with the walk, the planning and the
        writes overlapping; taking turns, the walk alone is 0.6 s and the inserts 1.2 s.
        """
        walk = self._walk
        assert walk is not None
        self.counters.enter(ScanPhase.WALKING)
        async with aclosing(walk.batches()) as batches:
            async for batch in batches:
                with walk.paused():
                    await self._apply(planner.plan(batch))
                yield self.counters.snapshot()
                if self.cancelled:
                    return

    async def _apply(self, plan: BatchPlan) -> None:
        inserted, skipped = 0, set[Any]()
        await self._bulk.before_inserts(len(plan.inserts))
        if plan.inserts or plan.changed or plan.restored:  # an unchanged batch writes nothing
            inserted, skipped = await self._write_batch(plan)
        counters = self.counters
        counters.report(plan.issues)
        counters.seen += plan.entries
        counters.bytes_seen += plan.bytes
        counters.new += inserted
        counters.skipped += len(skipped)
        counters.changed += len(plan.changed)
        counters.unchanged += plan.unchanged
        counters.restored += plan.restored_count
        self._seen.update(plan.seen_known)
        self._sizes.update(plan.sizes)
        jobs = plan.hash_jobs
        self._hash_jobs.extend([job for job in jobs if job.key not in skipped] if skipped else jobs)
        self._thumbnail_keys.update(plan.thumbnail_keys)
        self._pending_thumbnails.extend(plan.thumbnail_jobs)
        self._candidates.extend(plan.candidates)

    async def _write_batch(self, plan: BatchPlan) -> tuple[int, set[Any]]:
        async with self._write() as session:
            inserted = await writes.insert_files(session, plan.inserts)
            skipped = await self._skipped_inserts(session, plan, inserted)
            await writes.update_changed(session, plan.changed)
            await writes.restore(session, plan.restored)
        return inserted, skipped

    async def _skipped_inserts(
        self, session: AsyncSession, plan: BatchPlan, inserted: int
    ) -> set[Any]:
        """Ids of rows not inserted because their path belongs to another folder."""
        if inserted == len(plan.inserts):
            return set()
        ids = [row[0] for row in plan.inserts]
        present = {RowCodec.as_uuid(value) for value in await writes.existing_ids(session, ids)}
        return {value for value in ids if RowCodec.as_uuid(value) not in present}

    # --- resolving, hashing --------------------------------------------------------------------

    async def _resolving(self, planner: Planner) -> AsyncGenerator[ScanProgress, None]:
        assert self._walk is not None
        self.counters.enter(ScanPhase.RESOLVING)
        report = self._walk.report
        self.counters.skipped += report.skipped
        self.counters.report(report.take_issues())
        root = self._walk.settings.root
        if any(path == root for path, _ in report.failed):
            raise ScanError(f"The folder {display(root)} could not be listed; nothing was removed.")
        self._resolver = Resolver(
            planner, self.options, self.counters, self._thumbnail_keys, lambda: self.cancelled
        )
        self._resolver.thumbnail_jobs.extend(self._pending_thumbnails)
        unlisted = [path for path, gone in report.failed if not gone]
        everything_seen = len(self._seen) == len(self._known)  # seen holds known paths only
        if everything_seen and not self._candidates:
            matcher = await build_matcher({}, set(), [])  # nothing can have moved or gone
        else:
            matcher = await build_matcher(self._known, self._seen, unlisted)
        resolving = self._resolver.run(matcher, self._candidates, self._hash_pool(), self._write)
        async with aclosing(resolving):
            async for snapshot in resolving:
                yield snapshot
        self._hash_jobs.extend(self._resolver.more_hash_jobs)

    def _hash_pool(self) -> HashPool:
        if self._hasher is None:
            self._hasher = HashPool(self.hooks, self.hash_workers)
            self.counters.live_bytes = lambda: self._hasher.counter.value if self._hasher else 0
        return self._hasher

    async def _hashing(self) -> AsyncGenerator[ScanProgress, None]:
        if not self._hash_jobs:
            return
        assert self._resolver is not None
        resolver, write = self._resolver, self._write
        await self._bulk.before_hashing(len(self._hash_jobs))

        async def store(results: Sequence[HashResult]) -> None:
            await resolver.store_hashes(results, write)

        hashing = hash_phase(
            self._hash_pool(), self._hash_jobs, self._sizes, self.counters, self.options,
            self.database.is_sqlite, store, lambda: self.cancelled,
        )  # fmt: skip
        async with aclosing(hashing):
            async for snapshot in hashing:
                yield snapshot

    # --- helpers -----------------------------------------------------------------------------

    def _thumbnailer_for(self, jobs: list[ThumbnailJob]) -> Thumbnailer:
        self._thumbnailer = Thumbnailer(jobs, self.cache_dir, self.options)
        if self.cancelled:
            self._thumbnailer.stop.set()
        return self._thumbnailer

    async def _close(self) -> None:
        """Stop every thread this scan started and wait for them; put the index back."""
        try:
            if self._walk is not None:
                await self._walk.close()
            for pool in (self._hasher, self._thumbnailer):
                if pool is not None:
                    await pool.close()
            await self._bulk.finish_after_failure()
        finally:
            self._forget_rows()

    def _forget_rows(self) -> None:
        """Let go of what this scan knew of the folder: a row, a path and a job per file.

        ``_load_known`` froze this scanner with the rows (``gc.freeze``), so the collector
        never frees it, even once nothing refers to it: it is part of cycles (bound
        methods, callbacks). Whatever it still holds would stay for the life of the
        process: ~100 MB per rescan of 100k files, for each folder that ``filemeta scan``
        is given, or each scan the app runs in its own process where it cannot start a
        child (``FolderService.scan``). Emptied in place, since the planner holds the
        same dict of rows.
        """
        for held in (
            self._known, self._seen, self._sizes, self._hash_jobs, self._thumbnail_keys,
            self._pending_thumbnails, self._candidates,
        ):  # fmt: skip
            held.clear()
        self._resolver = None
        self._walk = self._hasher = self._thumbnailer = None
