"""What removing files means, and what came of it."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class RemovalMode(enum.StrEnum):
    LIBRARY = "library"
    """Forget the files (soft delete); the files on disk stay."""
    TRASH = "trash"
    """Move the files to the system trash, then forget them."""
    DISK = "disk"
    """Delete the files from disk for good, then forget them."""


@dataclass(frozen=True, slots=True)
class RemovalResult:
    removed: tuple[uuid.UUID, ...] = ()
    bytes_freed: int = 0
    failures: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """``(path, reason)`` of files that could not be trashed or deleted (left in place)."""
