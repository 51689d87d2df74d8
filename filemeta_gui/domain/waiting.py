"""Waiting for something for a limited time, without losing a cancellation.

``asyncio.wait_for(queue.get(), seconds)`` looks the same, but in Python 3.11 it returns the
result when the waiting task is cancelled just as the result arrives: the cancellation is
lost and a consumer that should stop (a change feed on shutdown, a scan being stopped)
carries on. ``asyncio.timeout`` cancels only its own task's wait and lets any other
cancellation through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """The result of ``awaitable``; ``TimeoutError`` after ``seconds`` (None: no limit).
    Use it where ``asyncio.wait_for`` would do."""
    async with asyncio.timeout(seconds):
        return await awaitable
