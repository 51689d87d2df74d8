"""Helpers for the live-update and resilience tests: clients, a feed recorder, a killer.

Nothing here mocks the database: clients are real ``Database`` objects, the server's
connections are really terminated (``pg_terminate_backend``, what a server restart does
to them, without restarting the cluster other engineers' tests share).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, Callable
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeEvent, ConnectionState, Event, StatusEvent
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories import FileRepository
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.repositories.users import UserRepository
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.identity import Identity, resolve_identity
from tests.repositories.factories import file_row

WAIT_S = 10.0
"""Upper bound for things that normally take milliseconds (a loaded CI box is slow)."""


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def terminate_backends(url: str) -> int:
    """Terminate every backend of this database (pool, listener...) but the caller's own.

    Returns how many were terminated; the server itself keeps running.
    """
    connection = await asyncpg.connect(dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return sum(1 for row in rows if row["done"])


async def add_file(database: Database, path: str) -> uuid.UUID:
    async with database.session(write=True) as session:
        row = await FileRepository(session).create(**file_row(path))
        return row.id


async def admin_policy(database: Database) -> AccessPolicy:
    identity = await resolve_identity(database)
    assert identity.is_admin
    return AccessPolicy(identity)


async def guest_policy(database: Database, login: str = "guest") -> tuple[AccessPolicy, UserRecord]:
    async with database.session(write=True) as session:
        row = await UserRepository(session).create(
            ip_address="10.0.0.9", role=Role.GUEST, login=login
        )
        user = user_record(row)
    return AccessPolicy(Identity(user=user, login=login)), user


async def count(database: Database, sql: str, **params: Any) -> int:
    async with database.session() as session:
        return int((await session.execute(text(sql), params)).scalar_one())


class FeedRecorder:
    """Runs a change feed in a task and lets a test wait for events, in order.

    ``next(predicate)`` returns the first event after the last one returned that
    matches, waiting (on a condition, never a sleep) up to ``within`` seconds.
    """

    def __init__(self, feed: AsyncIterable[Event]) -> None:
        self.feed = feed
        self.events: list[Event] = []
        self._cursor = 0
        self._condition = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FeedRecorder:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            async for event in self.feed:
                async with self._condition:
                    self.events.append(event)
                    self._condition.notify_all()
        finally:
            async with self._condition:
                self._condition.notify_all()

    async def next(
        self, predicate: Callable[[Event], bool] = lambda _e: True, within: float = WAIT_S
    ) -> Event:
        async def _find() -> Event:
            async with self._condition:
                while True:
                    while self._cursor < len(self.events):
                        event = self.events[self._cursor]
                        self._cursor += 1
                        if predicate(event):
                            return event
                    assert self._task is not None
                    if self._task.done():
                        self._task.result()  # raises what ended the feed
                        raise AssertionError("the feed ended")
                    await self._condition.wait()

        return await asyncio.wait_for(_find(), within)

    async def connected(self, within: float = WAIT_S) -> StatusEvent:
        event = await self.next(lambda e: is_status(e, ConnectionState.CONNECTED), within)
        assert isinstance(event, StatusEvent)
        return event

    async def change(
        self, predicate: Callable[[ChangeEvent], bool] = lambda _e: True, within: float = WAIT_S
    ) -> ChangeEvent:
        event = await self.next(
            lambda e: isinstance(e, ChangeEvent) and predicate(e), within=within
        )
        assert isinstance(event, ChangeEvent)
        return event

    def statuses(self) -> list[ConnectionState]:
        return [e.state for e in self.events if isinstance(e, StatusEvent)]


def is_status(event: Event, state: ConnectionState) -> bool:
    return isinstance(event, StatusEvent) and event.state is state
