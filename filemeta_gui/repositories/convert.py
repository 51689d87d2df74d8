"""ORM rows to frozen domain records: the only place a row's attributes are read for the UI.

Nothing here loads anything: related values (tags, counts, logins) are passed in, or read
from relationships only when the query loaded them eagerly.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row
from sqlalchemy import inspect as sa_inspect

from filemeta_gui.db.models import Base, File, Folder, Permission, SavedSearchRow, Tag, User
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.paths import from_stored
from filemeta_gui.domain.records import (
    FileRecord,
    FolderRecord,
    PermissionRecord,
    SavedSearch,
    TagRecord,
    UserRecord,
)

# What a FileRecord takes from a file row, in this order.
_FILE_FIELDS = (
    "id", "filename", "file_path", "raw_path", "file_size", "content_type", "upload_time",
    "mtime_ns", "hash_value", "thumbnail_path", "folder_id", "owner_id", "deleted_at",
    "version",
)  # fmt: skip
FILE_COLUMNS = tuple(File.__table__.columns)
"""Every column of ``files``: pages select these and read plain rows, not ORM objects (at
200 rows a page, building and tracking File instances was a third of a page's time)."""
# Both read in C: by name from a File, by position from a row of FILE_COLUMNS (by name,
# a row's attributes cost 0.5 us each).
_FROM_FILE = operator.attrgetter(*_FILE_FIELDS)
_FROM_ROW = operator.itemgetter(*(FILE_COLUMNS.index(File.__table__.c[f]) for f in _FILE_FIELDS))


def file_record(
    row: File | Row[Any], tags: Iterable[str] = (), access: AccessType | None = None
) -> FileRecord:
    """``row``: a ``File``, or a row of ``FILE_COLUMNS`` (what pages read)."""
    (
        file_id, filename, file_path, raw_path, file_size, content_type, upload_time,
        mtime_ns, hash_value, thumbnail_path, folder_id, owner_id, deleted_at, version,
    ) = _FROM_ROW(row) if isinstance(row, Row) else _FROM_FILE(row)  # fmt: skip
    return FileRecord(
        id=file_id,
        filename=filename,
        file_path=file_path,
        # Non-UTF-8 names keep their exact bytes in raw_path (domain/paths.py).
        os_path=from_stored(file_path, raw_path),
        file_size=file_size,
        content_type=content_type,
        upload_time=upload_time,
        mtime_ns=mtime_ns,
        hash_value=hash_value,
        thumbnail_path=thumbnail_path,
        folder_id=folder_id,
        owner_id=owner_id,
        deleted_at=deleted_at,
        tags=tuple(tags),
        access=access,
        version=version,
    )


def folder_record(row: Folder, file_count: int = 0, total_bytes: int = 0) -> FolderRecord:
    return FolderRecord(
        id=row.id,
        path=row.path,
        os_path=from_stored(row.path, row.raw_path),
        added_at=row.added_at,
        last_scan_at=row.last_scan_at,
        file_count=file_count,
        total_bytes=total_bytes,
        follow_symlinks=row.follow_symlinks,
        excludes=tuple(line for line in row.excludes.splitlines() if line.strip()),
    )


def tag_record(row: Tag, file_count: int = 0) -> TagRecord:
    return TagRecord(id=row.id, name=row.name, parent_id=row.parent_id, file_count=file_count)


def user_record(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        ip_address=row.ip_address,
        role=row.role,
        created_at=row.created_at,
        login=row.login,
        disabled=row.disabled,
    )


def permission_record(
    row: Permission, login: str | None = None, file_path: str | None = None
) -> PermissionRecord:
    """``login``/``file_path`` default to the eagerly loaded ``user``/``file``, if any."""
    if login is None and _loaded(row, "user"):
        login = row.user.login
    if file_path is None and _loaded(row, "file"):
        file_path = row.file.file_path
    return PermissionRecord(
        id=row.id,
        user_id=row.user_id,
        file_id=row.file_id,
        access_type=row.access_type,
        granted_at=row.granted_at,
        login=login,
        file_path=file_path,
    )


def saved_search_record(row: SavedSearchRow) -> SavedSearch:
    return SavedSearch(id=row.id, name=row.name, query=row.query)


def _loaded(row: Base, relationship: str) -> bool:
    # Reading an unloaded lazy="raise" relationship would raise; ask the ORM state instead.
    return relationship not in sa_inspect(row).unloaded
