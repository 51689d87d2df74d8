"""A registry that keeps a reference to every asyncio task started from a Qt slot.

qasync 0.28's ``asyncSlot`` does not keep one, so a task started from a slot can be
garbage-collected in the middle of a database call. Every slot of the window starts its
coroutine through :class:`TaskRegistry.start` instead; quitting calls :meth:`cancel_all`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
ErrorHandler = Callable[[BaseException], None]


class TaskRegistry:
    """Owns the tasks of one window.

    Args:
        on_error: receives every exception a task ends with (not cancellations).
            Without one, the exception is logged.
    """

    def __init__(self, on_error: ErrorHandler | None = None) -> None:
        self.on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}

    def start(self, coro: Coroutine[Any, Any, T], *, key: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` as a task and keep it referenced until it ends.

        Args:
            key: at most one task per key runs; starting another cancels the previous one
                (a new search replaces the query still running).
        """
        if key is not None:
            self.cancel(key)
        task: asyncio.Task[T] = _loop().create_task(coro, name=key)
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task
        task.add_done_callback(self._finished)
        return task

    def cancel(self, key: str) -> bool:
        """Cancel the task running under ``key``; True if there was one."""
        task = self._keyed.pop(key, None)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def running(self, key: str | None = None) -> bool:
        """True while the task under ``key`` (or, without a key, any task) runs."""
        if key is None:
            return any(not task.done() for task in self._tasks)
        task = self._keyed.get(key)
        return task is not None and not task.done()

    @property
    def idle(self) -> bool:
        return not self.running()

    def __len__(self) -> int:
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until every task (and every task those start) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        """Cancel every task and wait until each one has finished unwinding."""
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            # Unwinding tasks may have started others (a refresh after a cancel): repeat.
            self._tasks.difference_update(pending)
        self._keyed.clear()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        name = task.get_name()
        if self._keyed.get(name) is task:
            del self._keyed[name]
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        if self.on_error is not None:
            self.on_error(error)
        else:
            log.error("Background task failed", exc_info=error)


def _loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop()
