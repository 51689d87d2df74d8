"""Who is asking: the service operation behind a query, and queries left out of the figures.

Both travel in context variables. SQLAlchemy runs an ``AsyncSession``'s work in a greenlet
that shares the calling task's context, so the ``QueryMonitor`` sees the values the task
set, and concurrent tasks never see each other's.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, TypeVar, cast

_OPERATION: ContextVar[str | None] = ContextVar("filemeta_operation", default=None)
_UNMONITORED: ContextVar[bool] = ContextVar("filemeta_unmonitored", default=False)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def current_operation() -> str | None:
    """The innermost ``operation`` name active in this task, if any."""
    return _OPERATION.get()


def is_unmonitored() -> bool:
    return _UNMONITORED.get()


def _reset(variable: ContextVar[T], token: Token[T]) -> None:
    """Undo a ``set``, unless this runs in another context than the one that set it.

    That happens when a coroutine is closed by the garbage collector (a task destroyed
    while still pending, at shutdown): its ``finally`` blocks run in whatever context is
    current. The context that held the value is gone with the task; nothing to undo, and
    raising there would only print "Exception ignored" on the way out.
    """
    with contextlib.suppress(ValueError):
        variable.reset(token)


@contextmanager
def unmonitored() -> Iterator[None]:
    """Leave the queries of this block out of the monitor's figures.

    For the monitoring panel's own queries (server statistics, plans), so that watching
    the database does not change what is being watched. Pool figures still count the
    connections these queries use: they really are taken from the pool.
    """
    token = _UNMONITORED.set(True)
    try:
        yield
    finally:
        _reset(_UNMONITORED, token)


class operation:  # lower case: it reads as a function, ``with operation("tags.attach")``
    """Name the service operation whose queries follow; a context manager or a decorator.

    ``with operation("tags.attach"): ...`` or ``@operation("library.search")`` on a plain
    function, a coroutine function or an async generator function (the name is set around
    each step of the generator only, so it never leaks into the consumer between items).
    Nested operations report the innermost name. Enter one instance in one task at a time.
    """

    __slots__ = ("_tokens", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._tokens: list[Token[str | None]] = []

    def __enter__(self) -> str:
        self._tokens.append(_OPERATION.set(self.name))
        return self.name

    def __exit__(self, *_exc: object) -> None:
        _reset(_OPERATION, self._tokens.pop())

    def __call__(self, function: F) -> F:
        name = self.name
        if inspect.isasyncgenfunction(function):
            return cast(F, _wrap_async_generator(function, name))
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_coroutine(*args: Any, **kwargs: Any) -> Any:
                with operation(name):
                    return await function(*args, **kwargs)

            return cast(F, run_coroutine)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with operation(name):
                return function(*args, **kwargs)

        return cast(F, run)


def _wrap_async_generator(
    function: Callable[..., AsyncIterator[Any]], name: str
) -> Callable[..., AsyncIterator[Any]]:
    @functools.wraps(function)
    async def run_generator(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        iterator = function(*args, **kwargs)
        try:
            while True:
                with operation(name):
                    try:
                        item = await anext(iterator)
                    except StopAsyncIteration:
                        return
                yield item
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    return run_generator
