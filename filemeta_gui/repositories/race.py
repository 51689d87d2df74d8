"""PostgreSQL: two statements with one answer, each on its own connection; the first to
finish gives it.

A page walked along a sort index may find its 201 matches at once or pass the whole
library first, and which shows only once the walk has run; reading every match and
sorting them takes a time the planner's estimate foretells (``search_plan._walk_budget``).
One after the other, the walk stopped by ``statement_timeout`` at its budget, a page took
the budget and the read: ``screenshot`` at 1M files 280-300 ms in most orders, where the
read alone takes ~120 ms. Raced, it takes the faster of the two, and the second core
does the other's work.

The walk starts alone and the read joins it after a head start, so that a walk that
ends at once costs no second connection. The one that loses is stopped with
``pg_cancel_backend`` (sent again until it has stopped: it may not have begun yet), not
by cancelling its task: SQLAlchemy would throw that connection away, and a collected
connection that was never checked in warns. Neither runs on the caller's session, so a
cancel that comes late, while the loser ends its transaction, cannot reach the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.errors import query_cancelled

SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Rows = list[Row[Any]]
CANCEL_RETRY_S = 0.005
"""How long a cancelled statement has to answer before the cancel is sent again."""


class _Runner:
    """One statement on a session of its own, stoppable from another connection.

    The session is held until :meth:`stop`: a cancel sent while the statement ran may
    reach the server once it has answered, and must not find the connection serving
    another session (the server drops a cancel that finds it idle).
    """

    def __init__(self, sessions: SessionFactory, statement: Select[Any]) -> None:
        self.statement = statement
        # The rows; None if the statement was cancelled.
        self.answer: asyncio.Future[Rows | None] = asyncio.get_running_loop().create_future()
        self.pid: int | None = None  # the server process
        self.running = False  # the statement is sent and has not answered
        self.release = asyncio.Event()
        self.task = asyncio.ensure_future(self._run(sessions))

    async def _run(self, sessions: SessionFactory) -> None:
        try:
            async with sessions() as session:
                connection = await session.connection()
                raw = await connection.get_raw_connection()
                self.pid = raw.driver_connection.get_server_pid()  # type: ignore[union-attr]
                self.running = True
                try:
                    rows = list((await session.execute(self.statement)).all())
                except Exception as error:
                    self.running = False
                    if query_cancelled(error):
                        self.answer.set_result(None)
                    else:
                        self.answer.set_exception(error)
                    await self.release.wait()
                    raise  # the session rolls back
                self.running = False
                self.answer.set_result(rows)
                await self.release.wait()
        except Exception as error:
            if not self.answer.done():  # it failed before the statement ran
                self.answer.set_exception(error)

    async def stop(self, sessions: SessionFactory) -> None:
        """Cancel the statement until it answers (sent only while it runs), then let its
        session end. Interrupted, the session is let go all the same: a statement left to
        run to its end costs time, a session held for ever a connection."""
        try:
            if not self.answer.done():
                async with sessions() as session:
                    while not self.answer.done():
                        if self.running:
                            await session.execute(select(func.pg_cancel_backend(self.pid)))
                        await asyncio.wait({self.answer}, timeout=CANCEL_RETRY_S)
        finally:
            self.release.set()
        await self.task
        with contextlib.suppress(Exception):  # retrieved: the loser's error does not matter
            self.answer.result()


async def first_of(
    sessions: SessionFactory, head_start_ms: float, first: Select[Any], second: Select[Any]
) -> Rows:
    """The rows of ``first`` or of ``second``, which must be the same, whichever answers
    first; ``second`` begins once ``first`` has run ``head_start_ms`` alone."""
    runners = [_Runner(sessions, first)]
    try:
        done, _ = await asyncio.wait({runners[0].answer}, timeout=head_start_ms / 1000)
        if not done:
            runners.append(_Runner(sessions, second))
        waiting = {runner.answer: runner for runner in runners}
        while waiting:
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for answer in done:
                runner = waiting.pop(answer)
                if (rows := answer.result()) is not None:
                    return rows
                if runner.statement is first and len(runners) == 1:  # cancelled by another
                    runners.append(_Runner(sessions, second))
                    waiting[runners[-1].answer] = runners[-1]
        raise RuntimeError("both ways to a page were cancelled")
    finally:
        try:
            for runner in runners:
                await runner.stop(sessions)
        finally:  # the caller cancelled while one was being stopped: let the others go
            for runner in runners:
                runner.release.set()
