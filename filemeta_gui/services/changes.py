"""``ChangeFeed``: what other clients change, on either backend, as the viewer may know it.

The feed only *tells* that something changed; the window then refetches through the
services, which apply the viewer's policy as always. The feed itself also keeps to the
policy: a notification goes to every listener on the server, so for a guest the ids of
files they may not read are dropped (and the event with them when none is left), and
grants or user changes arrive without ids ("your access may have changed").

Typical use (the Qt adapter ``ui.change_notifier`` and ``filemeta watch`` do this)::

    feed = ChangeFeed(services.database, services.policy)
    async for event in feed:          # cancel the iterating task to stop
        ...
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import replace

from filemeta_gui.db.engine import Database
from filemeta_gui.db.listener import KEEPALIVE_S, ChangeListener
from filemeta_gui.db.sqlite_watch import POLL_S, SqliteWatch
from filemeta_gui.domain.changes import ChangeEvent, ChangeKind, ChangeOp, Event, StatusEvent
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.repositories.permissions import PermissionRepository
from filemeta_gui.services.access import AccessPolicy

log = logging.getLogger(__name__)

# Kinds whose ids a guest may only learn for files they can read.
_FILE_ROW_KINDS = frozenset({ChangeKind.FILES, ChangeKind.FILE_TAGS})
# Kinds whose ids say something about other people: a guest gets the kind only.
_PRIVATE_KINDS = frozenset({ChangeKind.PERMISSIONS, ChangeKind.USERS})


class ChangeFeed:
    """An async iterable of :class:`ChangeEvent` and :class:`StatusEvent`.

    PostgreSQL: LISTEN on a connection of its own (``db.listener``), reconnecting when
    lost. SQLite: polls ``PRAGMA data_version`` (``db.sqlite_watch``), which notices
    commits by other processes (and by this one's other connections) as ``LIBRARY``.

    Args:
        keepalive_s: PostgreSQL: silence after which the listener probes its connection.
        poll_s: SQLite: time between two looks at the file.
    """

    def __init__(
        self,
        database: Database,
        policy: AccessPolicy,
        *,
        keepalive_s: float = KEEPALIVE_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.database = database
        self.policy = policy
        self.keepalive_s = keepalive_s
        self.poll_s = poll_s

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.events()

    async def events(self) -> AsyncGenerator[Event, None]:
        async with aclosing(self._source()) as source:
            async for event in source:
                if isinstance(event, StatusEvent):
                    yield event
                    continue
                visible = await self._as_seen_by_viewer(event)
                if visible is not None:
                    yield visible

    def _source(self) -> AsyncGenerator[Event, None]:
        if self.database.is_sqlite:
            return SqliteWatch.for_database(self.database, poll_s=self.poll_s).events()
        listener = ChangeListener.for_database(self.database, keepalive_s=self.keepalive_s)
        return listener.events()

    async def _as_seen_by_viewer(self, event: ChangeEvent) -> ChangeEvent | None:
        """The event as this viewer may see it; None when it concerns nothing of theirs."""
        if self.policy.is_admin or event.is_everything:
            return event
        if self.policy.identity.user is None:
            return None  # sees no files at all
        if event.kind in _PRIVATE_KINDS:
            return replace(event, ids=(), count=0, many=False, who=None)
        if event.kind not in _FILE_ROW_KINDS or event.many or event.op is ChangeOp.DELETE:
            # Tags and folders are shared by everyone; deleted rows exist for no one now,
            # and their ids tell the window which rows to drop.
            return event
        try:
            readable = await self._readable(event.ids)
        except FileMetaError as error:
            # The pool is reconnecting: say "files changed" without ids rather than leak
            # them or stop the feed; the window's refetch applies the policy.
            log.info("change feed: cannot check access now (%s)", error)
            return replace(event, ids=(), many=True)
        if not readable:
            return None
        ids = tuple(i for i in event.ids if i in readable)
        return replace(event, ids=ids, count=len(ids))

    async def _readable(self, ids: tuple[uuid.UUID, ...]) -> set[uuid.UUID]:
        user = self.policy.identity.user
        assert user is not None
        async with self.database.session() as session:
            return await PermissionRepository(session).allowed_files(user.id, ids, AccessType.READ)
