"""Enumerations shared by every layer."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    GUEST = "guest"
    ADMIN = "admin"


class AccessType(enum.StrEnum):
    """Permission levels. They nest: delete includes write, write includes read."""

    READ = "read"
    WRITE = "write"
    DELETE = "delete"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: AccessType) -> bool:
        return self.rank >= other.rank


_RANKS = {AccessType.READ: 1, AccessType.WRITE: 2, AccessType.DELETE: 3}


class Backend(enum.StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class SortColumn(enum.StrEnum):
    """Columns the file list can be sorted by, in SQL."""

    NAME = "name"
    FOLDER = "folder"
    SIZE = "size"
    TYPE = "type"
    MODIFIED = "modified"
    INDEXED = "indexed"
    HASH = "hash"
