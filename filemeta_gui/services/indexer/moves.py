"""Recognising moved and renamed files, so a row keeps its id, tags and permissions.

After the walk, a path the library knew but the disk no longer has *vanished*; a path the
disk has but the library did not know, with the size of some known file, is a *candidate*.
A candidate is the vanished file moved when

1. it is the same inode on the same device with the same size and ``mtime_ns`` (a rename
   or a move within one file system: no need to read anything), or
2. its content hash and size equal a vanished file's (a copy-then-delete, or a move
   across file systems).

Rows deleted by an earlier scan are matched as well: a file moved out and later back in
gets its row (and tags) back. Whatever is left vanished is soft-deleted, except under
folders that could not be listed this time — their files are not known to be gone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from filemeta_gui.repositories.index_writes import KnownRow, signed64
from filemeta_gui.services.indexer.plan import NewFile


class Move(NamedTuple):
    row: KnownRow
    new: NewFile


class MoveMatcher:
    """Built once after the walk (in a thread: it looks at every known row)."""

    def __init__(self, known: dict[str, KnownRow], seen: set[str], unlisted: list[str]) -> None:
        prefixes = tuple(folder.rstrip("/") + "/" for folder in unlisted)
        self.vanished: dict[str, KnownRow] = {}
        sources: list[tuple[str, KnownRow]] = []
        for path, row in known.items():
            if path in seen or (prefixes and path.startswith(prefixes)):
                continue
            if not row.deleted:
                self.vanished[path] = row
            sources.append((path, row))
        sources.sort()  # several identical files moved together pair up in path order
        self._by_inode: dict[tuple[int, int, int, int], str] = {}
        self._by_hash: dict[tuple[str, int], list[str]] = defaultdict(list)
        for path, row in sources:
            if row.inode is not None and row.device is not None:
                self._by_inode.setdefault((row.device, row.inode, row.size, row.mtime_ns), path)
            if row.hash_value is not None and row.size > 0:
                self._by_hash[(row.hash_value, row.size)].append(path)
        self._rows = dict(sources)
        self._used: set[str] = set()

    def by_inode(self, new: NewFile) -> Move | None:
        entry = new.entry
        key = (signed64(entry.device), signed64(entry.inode), entry.size, entry.mtime_ns)
        path = self._by_inode.get(key)
        return self._take(path, new) if path is not None else None

    def by_hash(self, new: NewFile, digest: str, size: int) -> Move | None:
        for path in self._by_hash.get((digest, size), ()):
            if path not in self._used:
                return self._take(path, new)
        return None

    def _take(self, path: str, new: NewFile) -> Move | None:
        if path in self._used:
            return None
        self._used.add(path)
        return Move(self._rows[path], new)

    def was_live(self, move: Move) -> bool:
        """True when the moved row was not deleted before this scan."""
        return not move.row.deleted

    def left_vanished(self) -> list[KnownRow]:
        """Rows gone from disk and not matched to a new path: to soft-delete."""
        return [row for path, row in self.vanished.items() if path not in self._used]
