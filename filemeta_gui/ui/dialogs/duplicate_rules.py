"""Which copies of a duplicate group to keep: the rules the Duplicates view offers.

Pure functions over domain records (no Qt), so they are easy to test and reuse. Every rule
keeps at least one copy of each group; a rule that does not apply to a group (no copy
inside the chosen folder) leaves that group as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum

from filemeta_gui.domain.records import DuplicateCopy, DuplicateGroup


class KeepRule(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    SHORTEST_PATH = "shortest-path"
    IN_FOLDER = "in-folder"

    @property
    def label(self) -> str:
        return {
            KeepRule.NEWEST: "Keep the newest copy",
            KeepRule.OLDEST: "Keep the oldest copy",
            KeepRule.SHORTEST_PATH: "Keep the copy with the shortest path",
            KeepRule.IN_FOLDER: "Keep the copies inside a folder…",
        }[self]


def copies_to_keep(
    group: DuplicateGroup, rule: KeepRule, folder: str | None = None
) -> set[uuid.UUID] | None:
    """The ids of the copies ``rule`` keeps in ``group``; None when it does not apply.

    Ties are broken by path, so applying a rule twice gives the same answer.
    """
    copies = list(group.copies)
    if not copies:
        return None
    if rule is KeepRule.IN_FOLDER:
        if not folder:
            return None
        inside = {c.file.id for c in copies if is_inside(c.file.file_path, folder)}
        return inside or None
    key = {
        KeepRule.NEWEST: lambda c: (-c.file.mtime_ns, c.file.file_path),
        KeepRule.OLDEST: lambda c: (c.file.mtime_ns, c.file.file_path),
        KeepRule.SHORTEST_PATH: lambda c: (len(c.file.file_path), c.file.file_path),
    }[rule]
    return {min(copies, key=key).file.id}


def is_inside(path: str, folder: str) -> bool:
    """True when ``path`` lies in ``folder`` or any folder below it."""
    folder = folder.rstrip("/") or "/"
    return path.startswith(folder if folder == "/" else folder + "/")


def freed_bytes(group: DuplicateGroup, removed: Iterable[uuid.UUID]) -> int:
    """Disk space that removing ``removed`` frees: hard links to a kept inode free nothing."""
    removed_ids = set(removed)
    kept = [c for c in group.copies if c.file.id not in removed_ids]
    if not kept:
        return 0
    kept_inodes = {_inode(c) for c in kept}
    gone_inodes = {_inode(c) for c in group.copies if c.file.id in removed_ids} - kept_inodes
    return group.size * len(gone_inodes)


def _inode(copy: DuplicateCopy) -> object:
    return copy.inode_key or ("id", copy.file.id)
