"""Frozen records handed from services to the UI and the command line.

They carry values only, never database sessions, so nothing can lazy-load on the GUI side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from filemeta_gui.domain.enums import AccessType, Role, SortColumn


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: uuid.UUID
    filename: str
    file_path: str
    """Display path (see ``domain.paths``)."""
    os_path: str
    """Exact path to hand to the OS (differs from ``file_path`` for non-UTF-8 names)."""
    file_size: int
    content_type: str
    upload_time: datetime
    mtime_ns: int
    hash_value: str | None = None
    thumbnail_path: str | None = None
    folder_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    deleted_at: datetime | None = None
    tags: tuple[str, ...] = ()
    access: AccessType | None = None
    """The current user's level on this file (None: admin or not computed)."""
    version: int = 1

    @property
    def directory(self) -> str:
        cut = self.file_path.rfind("/")
        return self.file_path[:cut] if cut > 0 else "/"

    @property
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


@dataclass(frozen=True, slots=True)
class FolderRecord:
    id: uuid.UUID
    path: str
    os_path: str
    added_at: datetime
    last_scan_at: datetime | None = None
    file_count: int = 0
    total_bytes: int = 0
    follow_symlinks: bool = False
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagRecord:
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None = None
    file_count: int = 0


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: uuid.UUID
    ip_address: str
    role: Role
    created_at: datetime
    login: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class PermissionRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    file_id: uuid.UUID
    access_type: AccessType
    granted_at: datetime
    login: str | None = None
    file_path: str | None = None


@dataclass(frozen=True, slots=True)
class SavedSearch:
    id: uuid.UUID
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """A snapshot of the connection pool (SQLite's pool has no fixed size: size 0)."""

    size: int
    checked_out: int
    checked_in: int
    overflow: int
    max_overflow: int = 0


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One keyset page of the file list.

    ``after`` is the sort key of the last row already shown, ``(value, id)``; None for the
    first page. ``descending`` flips the order of both the column and the tie-break.
    """

    sort: SortColumn = SortColumn.NAME
    descending: bool = False
    limit: int = 200
    after: tuple[object, uuid.UUID] | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: tuple[FileRecord, ...]
    next_after: tuple[object, uuid.UUID] | None
    """Cursor for the next page; None when this was the last one."""


@dataclass(frozen=True, slots=True)
class DuplicateCopy:
    file: FileRecord
    inode_key: tuple[int, int] | None = None
    hard_link: bool = False
    """True when another copy in the group is the same inode (it frees nothing)."""


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    hash_value: str
    size: int
    copies: tuple[DuplicateCopy, ...] = field(default_factory=tuple)

    @property
    def count(self) -> int:
        return len(self.copies)

    @property
    def distinct_inodes(self) -> int:
        keys = {c.inode_key or ("id", c.file.id) for c in self.copies}
        return len(keys)

    @property
    def reclaimable(self) -> int:
        """Bytes freed by keeping one copy; hard links to one inode count once."""
        return self.size * max(self.distinct_inodes - 1, 0)
