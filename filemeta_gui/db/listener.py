"""Live change notifications from PostgreSQL: one LISTEN connection that heals itself.

The connection is a plain asyncpg connection *outside* the pool: LISTEN is a session
state that a pooled connection would lose on its way back to the pool, and a pooled
connection held forever would shrink the pool for real work.

Loss is noticed two ways: asyncpg's termination listener fires when the server closes
the socket (``pg_terminate_backend``, a server restart); a keepalive ``SELECT 1`` after
``keepalive_s`` of silence catches a network that dropped without closing anything.
Then the listener reconnects with a growing, jittered backoff (50 clients must not
hammer a restarting server in lock-step) and reports each step as a
:class:`~filemeta_gui.domain.changes.StatusEvent`.

The payload format is written by ``migrations/versions/0003_change_notifications.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import (
    ChangeEvent,
    ChangeKind,
    ChangeOp,
    ConnectionState,
    Event,
    StatusEvent,
)
from filemeta_gui.domain.waiting import within

log = logging.getLogger(__name__)

CHANNEL = "filemeta_changes"
KEEPALIVE_S = 5.0
CONNECT_TIMEOUT_S = 10.0
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 5.0
# Errors that mean "the server is not (yet) there", as opposed to a bug in this module.
_NETWORK_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def parse_payload(payload: str) -> ChangeEvent | None:
    """The event a notification describes; None (and a log line) if it is malformed."""
    try:
        data = json.loads(payload)
        ids = tuple(uuid.UUID(str(item)) for item in data.get("ids") or ())
        return ChangeEvent(
            kind=ChangeKind(data["table"]),
            op=ChangeOp(data.get("op", "?")),
            ids=ids,
            count=int(data.get("count", len(ids))),
            many=bool(data.get("many", False)),
            who=data.get("who"),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        # A newer schema may announce a table this version does not know: skip, not crash.
        log.warning("ignoring a change notification this version cannot read: %.200s", payload)
        return None


def backoff_s(attempt: int) -> float:
    """Delay before reconnection attempt ``attempt`` (1-based): 0.25, 0.5, 1... 5 s, ±20 %."""
    base = min(BACKOFF_FIRST_S * 2 ** max(attempt - 1, 0), BACKOFF_MAX_S)
    return base * random.uniform(0.8, 1.2)


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


class _Lost:
    """Queue marker: the connection is gone."""


class ChangeListener:
    """Iterate :meth:`events` for change and status events; cancel the iterating task to stop.

    Args:
        url: the library's URL (its asyncpg driver name is fine).
        keepalive_s: silence after which the connection is probed with ``SELECT 1``.
        application_name: shown in ``pg_stat_activity``, so admins can tell listeners apart.
    """

    def __init__(
        self,
        url: URL,
        *,
        keepalive_s: float = KEEPALIVE_S,
        application_name: str = "filemeta-listener",
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._target = f"{url.database!r} on {url.host or 'localhost'}"
        self.keepalive_s = keepalive_s
        self.application_name = application_name

    @classmethod
    def for_database(cls, database: Database, **options: Any) -> ChangeListener:
        options.setdefault("application_name", f"{database.application_name}-listener")
        return cls(database.url, **options)

    async def events(self) -> AsyncGenerator[Event, None]:
        """Status events (connected / reconnecting / connected-again) and change events.

        ``CONNECTED``/``RECONNECTED`` are yielded once LISTEN is in place: every change
        committed after that is delivered. After ``RECONNECTED``, changes made while the
        connection was down are lost: refresh everything (``needs_full_refresh``).
        """
        connected_before = False
        attempt = 0
        while True:
            try:
                connection = await self._connect()
            except _NETWORK_ERRORS as error:
                attempt += 1
                yield StatusEvent(
                    ConnectionState.RECONNECTING,
                    f"Live updates paused: cannot reach the database {self._target} "
                    f"({_short(error)}); reconnecting…",
                    attempt,
                )
                await asyncio.sleep(backoff_s(attempt))
                continue
            attempt = 0
            reason = "no reason given"
            try:
                async with aclosing(self._subscribed(connection, connected_before)) as items:
                    async for item in items:
                        if isinstance(item, str):
                            reason = item
                            # Lost: a polite close would only wait for a dead peer.
                            connection.terminate()
                            break
                        connected_before = connected_before or isinstance(item, StatusEvent)
                        yield item
            finally:
                await _close(connection)
            yield StatusEvent(
                ConnectionState.RECONNECTING,
                f"Live updates paused: the connection was lost ({reason}); reconnecting…",
            )

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"application_name": self.application_name},
        )

    async def _subscribed(
        self, connection: asyncpg.Connection, again: bool
    ) -> AsyncGenerator[Event | str, None]:
        """LISTEN, yield the status, then the changes; finally the reason of the loss."""
        queue: asyncio.Queue[ChangeEvent | _Lost] = asyncio.Queue()

        def on_notify(_c: object, _pid: int, _channel: str, payload: str) -> None:
            event = parse_payload(payload)
            if event is not None:
                queue.put_nowait(event)

        connection.add_termination_listener(lambda _c: queue.put_nowait(_Lost()))
        try:
            await connection.add_listener(CHANNEL, on_notify)
        except _NETWORK_ERRORS as error:
            yield _short(error)
            return
        if again:
            yield StatusEvent(
                ConnectionState.RECONNECTED,
                f"Reconnected to the database {self._target}: live updates are back on.",
            )
        else:
            yield StatusEvent(
                ConnectionState.CONNECTED, f"Live updates on from the database {self._target}."
            )
        while True:
            try:
                item = await within(queue.get(), self.keepalive_s)  # see domain.waiting
            except TimeoutError:
                problem = await self._probe(connection)
                if problem is None:
                    continue
                yield problem
                return
            if isinstance(item, _Lost):
                yield "the server closed it"
                return
            yield item

    async def _probe(self, connection: asyncpg.Connection) -> str | None:
        """None if the connection answers ``SELECT 1`` in time, else what went wrong."""
        try:
            await within(connection.fetchval("SELECT 1"), self.keepalive_s)
        except _NETWORK_ERRORS as error:
            return _short(error) or "no answer"
        return None


async def _close(connection: asyncpg.Connection) -> None:
    if connection.is_closed():
        return
    try:
        # A polite close lets the server log a clean disconnect; a dead peer gets abort.
        await within(connection.close(), 2.0)
    except _NETWORK_ERRORS:
        connection.terminate()
    except BaseException:
        connection.terminate()
        raise
