"""SQLite statements in one trip to aiosqlite's thread, not four.

SQLAlchemy's aiosqlite adapter runs every statement as four calls on aiosqlite's thread:
open a cursor, execute, fetch all rows, close the cursor. Each call is queued to that
thread and wakes the event loop when it is done. On the 2-core development machine a
``SELECT 1`` cost 1.15 ms that way: more than SQLite needs to read a page of 201 rows at
1M files. :class:`OneTripCursor` does the four in one call, and keeps what the caller
reads afterwards (description, rows, row count, last row id).

``install`` gives a connection this cursor when it is made (``db.engine``). Server-side
cursors keep aiosqlite's own: they fetch in steps, which needs a live cursor.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any, NamedTuple

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


class _Outcome(NamedTuple):
    description: Any
    rows: list[Any]
    rowcount: int
    lastrowid: int | None


_NOTHING_YET = _Outcome(None, [], -1, None)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On aiosqlite's thread: the whole statement, the cursor closed whatever happens."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description is not None else []
        return _Outcome(description, rows, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_arraysize", "_outcome")

    def __init__(self, adapt_connection: Any) -> None:
        # No aiosqlite cursor: each statement makes and closes its own on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._outcome = _NOTHING_YET
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._outcome.description

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount

    @property
    def lastrowid(self) -> Any:
        return self._outcome.lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._trip(operation, seq_of_parameters, many=True)

    def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            outcome = await_(self._run_async(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._outcome = outcome
        self._rows = deque(outcome.rows)

    async def _run_async(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        driver = self._connection
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's queue to its thread; the same one its own cursor methods use.
            outcome: _Outcome = await driver._execute(
                _run, driver._conn, operation, parameters, many
            )
            return outcome

    async def _async_soft_close(self) -> None:
        return None  # closed on the thread already; the rows stay here

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


def install(dbapi_connection: Any) -> None:
    """Make a new connection of SQLAlchemy's aiosqlite adapter use :class:`OneTripCursor`
    (from the engine's ``connect`` event, before anything runs on it)."""
    if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
        # The same slots, one class attribute more: the object itself stays as it was made.
        dbapi_connection.__class__ = OneTripConnection
