"""What other clients changed, as told by the database, and what a window should refresh.

A :class:`ChangeEvent` describes one committed statement of another client (PostgreSQL
NOTIFY) or, on SQLite, "something in the file changed" (``kind`` ``LIBRARY``: no detail is
available there). A :class:`StatusEvent` reports the health of the channel that brings
them: after ``RECONNECTED`` the client may have missed changes and refreshes everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class ChangeKind(StrEnum):
    """What changed; the values are the table names the notifications carry."""

    FILES = "files"
    TAGS = "tags"
    FILE_TAGS = "file_tags"
    FOLDERS = "folders"
    USERS = "users"
    PERMISSIONS = "permissions"
    LIBRARY = "library"
    """Anything at all (SQLite, or after a reconnect): refresh everything shown."""


class ChangeOp(StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    UNKNOWN = "?"


# Kinds whose ``ids`` are file ids (file_tags and permissions list the files they touch).
FILE_ID_KINDS = frozenset({ChangeKind.FILES, ChangeKind.FILE_TAGS, ChangeKind.PERMISSIONS})


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One committed change made by some client.

    Attributes:
        ids: the changed rows' ids (file ids for ``FILE_TAGS`` and ``PERMISSIONS``);
            empty when ``many`` is set or the backend cannot tell.
        count: how many distinct ids the change touched (0 when unknown).
        many: more ids than a notification carries: treat as "a lot of rows of this kind".
        who: the database login that made the change (None when unknown).
    """

    kind: ChangeKind
    op: ChangeOp = ChangeOp.UNKNOWN
    ids: tuple[uuid.UUID, ...] = ()
    count: int = 0
    many: bool = False
    who: str | None = None

    @property
    def is_everything(self) -> bool:
        """True when the detail is unknown and every view should reload."""
        return self.kind is ChangeKind.LIBRARY

    def describe(self) -> str:
        """One line for people: ``tags INSERT 3 ids by alice``."""
        if self.is_everything:
            return "library changed"
        amount = f"{self.count} rows" if self.many else f"{len(self.ids)} ids"
        who = f" by {self.who}" if self.who else ""
        return f"{self.kind.value} {self.op.value} {amount}{who}"


class ConnectionState(StrEnum):
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    RECONNECTED = "connected-again"


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """The change channel's state; ``message`` is a sentence fit for a status bar."""

    state: ConnectionState
    message: str
    attempt: int = 0
    """How many reconnection attempts failed so far (RECONNECTING only)."""

    @property
    def needs_full_refresh(self) -> bool:
        """Changes made while the channel was down were not told: reload everything."""
        return self.state is ConnectionState.RECONNECTED


Event = ChangeEvent | StatusEvent


@dataclass(frozen=True, slots=True)
class RefreshPlan:
    """What a window refreshes after a burst of change events, merged.

    ``file_ids``: rows to re-fetch if shown; ``all_files``: reload the whole list (a
    batch too big to name, files added or an unknown change); ``counts``: totals and the
    status line; ``tags`` and ``folders``: the sidebar sections; ``access``: the viewer's
    rights may have changed (re-resolve who they are and reload).
    """

    file_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    all_files: bool = False
    counts: bool = False
    tags: bool = False
    folders: bool = False
    access: bool = False

    @property
    def empty(self) -> bool:
        flags = (self.all_files, self.counts, self.tags, self.folders, self.access)
        return not self.file_ids and not any(flags)


def plan_refresh(events: Iterable[Event]) -> RefreshPlan:
    """Merge events (typically those of the last ~100 ms) into one :class:`RefreshPlan`."""
    file_ids: set[uuid.UUID] = set()
    flags = {"all_files": False, "counts": False, "tags": False, "folders": False, "access": False}
    for event in events:
        if isinstance(event, StatusEvent):
            if event.needs_full_refresh:
                flags.update(dict.fromkeys(flags, True))
            continue
        _plan_one(event, file_ids, flags)
    if flags["all_files"]:
        file_ids.clear()  # the whole list reloads anyway
    return RefreshPlan(file_ids=frozenset(file_ids), **flags)


def _plan_one(event: ChangeEvent, file_ids: set[uuid.UUID], flags: dict[str, bool]) -> None:
    kind, op = event.kind, event.op
    if event.is_everything:
        flags.update(dict.fromkeys(flags, True))
    elif kind is ChangeKind.FILES or kind is ChangeKind.FILE_TAGS:
        # New rows belong somewhere in the sorted list: only a reload places them. Updated
        # rows (a soft delete too) and links are re-fetched by id.
        added = kind is ChangeKind.FILES and op is not ChangeOp.UPDATE
        if event.many or added:
            flags["all_files"] = True
        else:
            file_ids.update(event.ids)
        flags["counts"] = True
        flags["tags"] = True  # tag counts follow links and files entering or leaving the bin
        flags["folders"] = flags["folders"] or kind is ChangeKind.FILES
    elif kind is ChangeKind.PERMISSIONS:
        # A grant can show a guest new rows, a revoke hide some: the list reloads (admins
        # see every file anyway, so this costs them one reload per grant burst).
        flags["all_files"] = flags["counts"] = True
    elif kind is ChangeKind.TAGS:
        flags["tags"] = True
        # A renamed or deleted tag changes the tag column of the rows shown.
        flags["all_files"] = flags["all_files"] or op is not ChangeOp.INSERT
    elif kind is ChangeKind.FOLDERS:
        flags["folders"] = True
        if op is ChangeOp.DELETE:
            flags["all_files"] = flags["counts"] = True
    elif kind is ChangeKind.USERS:
        flags["access"] = True  # a role or a disabled flag may have changed
