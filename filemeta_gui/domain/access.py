"""What a user may reach: records the permission dialogs and ``filemeta perms`` show."""

from __future__ import annotations

from dataclasses import dataclass

from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.records import FileRecord, UserRecord


@dataclass(frozen=True, slots=True)
class FileAccess:
    file: FileRecord
    level: AccessType


@dataclass(frozen=True, slots=True)
class UserAccess:
    """The files a user can reach, with their level.

    Attributes:
        everything: the user is an enabled admin: every file, every level (``files``
            then lists nothing, it would be the whole library).
    """

    user: UserRecord
    everything: bool
    files: tuple[FileAccess, ...] = ()
