"""Waiting for the next item of a queue for a limited time, without losing a cancellation.

``asyncio.wait_for(queue.get(), seconds)`` looks the same, but in Python 3.11 it returns the
item when the waiting task is cancelled just as the item arrives: the cancellation is lost
and a consumer that should stop (a change feed on shutdown, a scan being stopped) carries
on. ``asyncio.timeout`` cancels only its own task's wait and lets any other cancellation
through.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


async def get_within(queue: asyncio.Queue[T], seconds: float | None) -> T:
    """The next item of ``queue``; ``TimeoutError`` after ``seconds`` (None: no limit)."""
    async with asyncio.timeout(seconds):
        return await queue.get()
