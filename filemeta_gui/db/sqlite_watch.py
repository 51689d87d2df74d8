"""Noticing that another process wrote the SQLite library (the CLI scanning, a second app).

SQLite has no notifications. ``PRAGMA data_version`` on one connection changes whenever
*another* connection commits to the file, in this process or any other, and reading it
costs no lock and no I/O beyond the shared-memory index. So a dedicated connection
(never one of the pool's, whose own commits it would not see) polls it a few times a
second; a change yields a :class:`ChangeEvent` of kind ``LIBRARY`` ("refresh
everything": SQLite cannot say what changed).

The connection stays in autocommit and never holds a read transaction open: an open one
would keep WAL checkpoints from ever completing while the app runs.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import aiosqlite

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import (
    ChangeEvent,
    ChangeKind,
    ConnectionState,
    Event,
    StatusEvent,
)

POLL_S = 0.3
RETRY_S = 2.0


class SqliteWatch:
    """Iterate :meth:`events`; cancel the iterating task to stop.

    Args:
        path: the library file.
        poll_s: time between two looks at ``data_version`` (the delay before a change by
            another process is noticed).
    """

    def __init__(self, path: Path, *, poll_s: float = POLL_S) -> None:
        self.path = path
        self.poll_s = poll_s

    @classmethod
    def for_database(cls, database: Database, *, poll_s: float = POLL_S) -> SqliteWatch:
        path = database.sqlite_path
        if path is None:
            raise ValueError("SqliteWatch needs a SQLite library.")
        return cls(path, poll_s=poll_s)

    async def events(self) -> AsyncGenerator[Event, None]:
        """``CONNECTED``, then one ``LIBRARY`` change per poll that saw another commit.

        If the file cannot be read (removed, a disk gone), ``RECONNECTING`` is yielded and
        the watch retries; coming back yields ``RECONNECTED`` (refresh everything).
        """
        opened_before = False
        attempt = 0
        while True:
            try:
                connection = await self._open()
            except (sqlite3.Error, OSError) as error:
                attempt += 1
                yield _paused(self.path, error, attempt)
                await asyncio.sleep(RETRY_S)
                continue
            try:
                state = ConnectionState.RECONNECTED if opened_before else ConnectionState.CONNECTED
                opened_before, attempt = True, 0
                yield StatusEvent(state, f"Watching {self.path} for changes by other programs.")
                try:
                    async with aclosing(self._poll(connection)) as changes:
                        async for event in changes:
                            yield event
                except (sqlite3.Error, OSError) as error:
                    attempt += 1
                    yield _paused(self.path, error, attempt)
            finally:
                await connection.close()
            await asyncio.sleep(RETRY_S)

    async def _open(self) -> aiosqlite.Connection:
        if not self.path.exists():
            # sqlite3 would create an empty file there: the library is gone, not new.
            raise OSError(f"{self.path} does not exist")
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await connection.execute("PRAGMA query_only = ON")  # this connection only looks
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _poll(self, connection: aiosqlite.Connection) -> AsyncGenerator[ChangeEvent, None]:
        last = await _data_version(connection)
        while True:
            await asyncio.sleep(self.poll_s)
            current = await _data_version(connection)
            if current != last:
                last = current
                yield ChangeEvent(kind=ChangeKind.LIBRARY)


async def _data_version(connection: aiosqlite.Connection) -> int:
    async with connection.execute("PRAGMA data_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _paused(path: Path, error: BaseException, attempt: int) -> StatusEvent:
    return StatusEvent(
        ConnectionState.RECONNECTING,
        f"Cannot watch {path} for changes ({error}); trying again…",
        attempt,
    )
