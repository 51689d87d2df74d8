"""The thumbnail phase of a scan: Pillow in a thread pool, results committed in batches."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.domain.paths import display
from filemeta_gui.domain.scan import ScanOptions, ScanPhase, ScanProgress
from filemeta_gui.repositories import index_writes as writes
from filemeta_gui.services.indexer.pool import PackPool
from filemeta_gui.services.indexer.progress import ScanCounters
from filemeta_gui.services.indexer.thumbnails import ThumbnailJob, ThumbnailResult, make_thumbnails

WriteFn = Callable[[], AbstractAsyncContextManager[AsyncSession]]
PACK = 16
FLUSH_SECONDS = 0.5
TICK_SECONDS = 0.25


class Thumbnailer:
    """Makes the thumbnails of ``jobs``; stops for good once the cache cannot be written."""

    def __init__(self, jobs: list[ThumbnailJob], cache_dir: Path, options: ScanOptions) -> None:
        # Copies of one picture side by side: the second finds the first one's thumbnail.
        self.jobs = sorted(jobs, key=lambda job: job.digest)
        self.cache_dir = cache_dir
        self.options = options
        self._pool: PackPool[list[ThumbnailJob], list[ThumbnailResult]] = PackPool(
            self._pack, name="thumb"
        )
        self.stop = self._pool.stop

    def _pack(self, jobs: list[ThumbnailJob]) -> list[ThumbnailResult]:
        return make_thumbnails(jobs, self.cache_dir, self.stop)

    async def run(
        self, counters: ScanCounters, write: WriteFn
    ) -> AsyncGenerator[ScanProgress, None]:
        if not self.jobs or not (self.options.thumbnails and self.options.hash_files):
            return
        counters.enter(ScanPhase.THUMBNAILS)
        counters.thumbnails_to_make = len(self.jobs)
        packs = [self.jobs[i : i + PACK] for i in range(0, len(self.jobs), PACK)]
        made: list[tuple[Any, str]] = []
        flushed = time.monotonic()
        async for pack in self._pool.results(packs, TICK_SECONDS):
            made.extend(self._sort_out(pack or [], counters))
            if made and (
                len(made) >= self.options.batch_size or time.monotonic() - flushed >= FLUSH_SECONDS
            ):
                await self._store(made, counters, write)
                made, flushed = [], time.monotonic()
            yield counters.snapshot()
            if self.stop.is_set():
                break
        await self._store(made, counters, write)

    def _sort_out(
        self, results: list[ThumbnailResult], counters: ScanCounters
    ) -> list[tuple[Any, str]]:
        made = []
        for result in results:
            if result.thumbnail is not None:
                made.append((result.key, result.thumbnail))
            elif result.cache_failed:
                if not self.stop.is_set():  # one entry for the folder, not one per image
                    counters.issue(display(str(self.cache_dir)), result.error or "not writable")
                self.stop.set()
            else:
                counters.issue(display(result.path), result.error or "no thumbnail")
        return made

    @staticmethod
    async def _store(made: list[tuple[Any, str]], counters: ScanCounters, write: WriteFn) -> None:
        if not made:
            return
        async with write() as session:
            await writes.set_thumbnails(session, made)
        counters.thumbnails += len(made)

    async def close(self) -> None:
        await self._pool.close()
