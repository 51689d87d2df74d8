"""A thread pool fed packs of work with a bounded number in flight.

One future per file would cost more event-loop time than hashing a small file takes, and
queueing every pack at once would make cancelling wait for all of them. About two packs
per thread stay in flight, kept topped up by a feeder task of their own: the consumer may
spend a while writing results to the database, and the threads must not sit idle until
it asks for the next result.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from filemeta_gui.domain.waiting import within

P = TypeVar("P")
R = TypeVar("R")
_DONE = object()


class PackPool(Generic[P, R]):
    """Runs ``work(pack)`` in threads; ``results`` yields what each pack returned.

    ``stop`` is shared with the work function, which should check it between items. Always
    ``await close()``: it sets ``stop`` and waits for the threads.
    """

    def __init__(self, work: Callable[[P], R], workers: int | None = None, name: str = "") -> None:
        self.work = work
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.stop = threading.Event()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=f"filemeta-{name}")
        self._running: set[asyncio.Future[R]] = set()
        self._feeder: asyncio.Task[None] | None = None

    async def results(
        self, packs: Sequence[P], tick: float | None = None
    ) -> AsyncGenerator[R | None, None]:
        """Each pack's result in completion order; ``None`` every ``tick`` seconds without one
        (so the caller can report progress while one big file is being read)."""
        finished: asyncio.Queue[object] = asyncio.Queue()
        self._feeder = asyncio.create_task(self._feed(list(packs), finished))
        try:
            while True:
                try:
                    item = await within(finished.get(), tick)
                except TimeoutError:
                    yield None
                    continue
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            await self._stop_feeding()

    async def _feed(self, packs: list[P], finished: asyncio.Queue[object]) -> None:
        loop = asyncio.get_running_loop()
        packs.reverse()  # pop() from the end keeps the caller's order
        try:
            while packs or self._running:
                while packs and len(self._running) < self.workers * 2 and not self.stop.is_set():
                    self._running.add(loop.run_in_executor(self._executor, self.work, packs.pop()))
                if not self._running:
                    break
                done, self._running = await asyncio.wait(
                    self._running, return_when=asyncio.FIRST_COMPLETED
                )
                for future in done:
                    finished.put_nowait(future.exception() or future.result())
        finally:
            finished.put_nowait(_DONE)

    async def _stop_feeding(self) -> None:
        feeder, self._feeder = self._feeder, None
        if feeder is not None and not feeder.done():
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)

    async def close(self) -> None:
        self.stop.set()
        await self._stop_feeding()
        if self._running:
            await asyncio.wait(self._running)
            self._running = set()
        # Every future is done, so the threads are idle and exit at once.
        self._executor.shutdown(wait=True)
