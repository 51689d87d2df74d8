"""Context variables of ``db.query_context`` when a coroutine ends in another context."""

from __future__ import annotations

import contextvars
from collections.abc import Generator

from filemeta_gui.db.query_context import current_operation, is_unmonitored, operation, unmonitored


class _Suspend:
    """An awaitable that suspends once: a coroutine parked mid-query, without a loop."""

    def __await__(self) -> Generator[None, None, None]:
        yield


async def _parked_inside_both() -> None:
    with unmonitored(), operation("panel.refresh"):
        await _Suspend()


def test_a_coroutine_closed_in_another_context_ends_quietly() -> None:
    """A task destroyed while pending is closed by the garbage collector, in whatever
    context is current then; resetting the variables there raised ValueError."""
    task_context = contextvars.copy_context()
    coroutine = _parked_inside_both()
    task_context.run(coroutine.send, None)
    assert task_context.run(is_unmonitored)
    assert task_context.run(current_operation) == "panel.refresh"

    coroutine.close()  # here, not in task_context: must not raise

    assert not is_unmonitored() and current_operation() is None


def test_values_are_undone_in_the_context_that_set_them() -> None:
    task_context = contextvars.copy_context()
    coroutine = _parked_inside_both()
    task_context.run(coroutine.send, None)
    task_context.run(coroutine.close)
    assert not task_context.run(is_unmonitored)
    assert task_context.run(current_operation) is None
