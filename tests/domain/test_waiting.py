"""``within``: an item, a timeout, and a cancellation that is never lost."""

from __future__ import annotations

import asyncio

import pytest

from filemeta_gui.domain.waiting import within


async def test_gives_the_next_item_or_times_out() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    queue.put_nowait("first")
    assert await within(queue.get(), 1.0) == "first"
    with pytest.raises(TimeoutError):
        await within(queue.get(), 0.01)


async def test_a_cancellation_that_comes_with_an_item_stops_the_waiter() -> None:
    """The race that made a change feed run on after its task was cancelled (with
    ``asyncio.wait_for`` in Python 3.11 the waiter returns the item instead)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    waiter = asyncio.create_task(within(queue.get(), 5.0))
    await asyncio.sleep(0.01)  # waiting on the queue now
    queue.put_nowait("item")
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
