"""Duplicate groups and their clean-up, never losing the last copy of anything."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Sequence
from typing import Any

from send2trash import send2trash
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.db.query_context import operation
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import ConflictError, NotFoundError
from filemeta_gui.domain.paths import from_stored
from filemeta_gui.domain.records import DuplicateCopy, DuplicateGroup
from filemeta_gui.domain.removal import RemovalMode, RemovalResult
from filemeta_gui.repositories.convert import file_record
from filemeta_gui.repositories.files import DuplicateRows, FileRepository, live
from filemeta_gui.repositories.permissions import PermissionRepository
from filemeta_gui.services.access import AccessPolicy


class DuplicateService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def groups(
        self, min_size: int = 1, include_empty: bool = False, limit: int | None = None
    ) -> list[DuplicateGroup]:
        """Groups of live files sharing a hash, most reclaimable bytes first.

        ``limit``: the first groups only (for a guest, of the groups before checking which
        copies they may read, so fewer may come back).
        """
        return (await self.groups_and_total(min_size, include_empty, limit))[0]

    @operation("duplicates.groups")
    async def groups_and_total(
        self, min_size: int = 1, include_empty: bool = False, limit: int | None = None
    ) -> tuple[list[DuplicateGroup], int]:
        """:meth:`groups`, and how many groups there are in all (``limit`` aside; for a
        guest, counted before checking which copies they may read)."""
        if self.policy.sees_nothing:
            return [], 0
        async with self.database.session() as session:
            files = FileRepository(session)
            found, total = await files.duplicate_groups_counted(min_size, include_empty, limit)
            found = await self._visible(session, found)
            ids = [row.id for _, _, rows in found for row in rows]
            tags = await files.tag_names(ids)
        groups = [
            DuplicateGroup(hash_value=h, size=size, copies=_copies(rows, tags))
            for h, size, rows in found
        ]
        groups.sort(key=lambda g: (-g.reclaimable, g.hash_value))
        return groups, total

    async def _visible(
        self, session: AsyncSession, found: list[DuplicateRows]
    ) -> list[DuplicateRows]:
        # A guest sees the copies they may read; a "group" of one visible copy is none.
        user = self.policy.identity.user
        if self.policy.is_admin or user is None:
            return found
        ids = [row.id for _, _, rows in found for row in rows]
        allowed = await PermissionRepository(session).allowed_files(user.id, ids, AccessType.READ)
        kept = [(h, size, [r for r in rows if r.id in allowed]) for h, size, rows in found]
        return [group for group in kept if len(group[2]) > 1]

    @operation("duplicates.remove")
    async def remove(self, file_ids: Sequence[uuid.UUID], mode: RemovalMode) -> RemovalResult:
        """Remove chosen copies; refuses (changing nothing) if a group would lose its last.

        Trash and disk removal touch the disk first, in a thread, and forget only the
        files that are really gone, so the library never claims a file that still exists
        is gone, nor the reverse.
        """
        chosen = list(dict.fromkeys(file_ids))
        async with self.database.session() as session:
            await self.policy.require(session, chosen, AccessType.DELETE, "remove")
            rows = await _live_rows(session, chosen)
            await _refuse_last_copies(session, rows, set(chosen))
        done, failures = list(rows), list[tuple[str, str]]()
        if mode is not RemovalMode.LIBRARY:
            done, failures = await asyncio.to_thread(_remove_from_disk, rows, mode)
        async with self.database.session(write=True) as session:
            await FileRepository(session).soft_delete([r.id for r in done])
        freed = sum(r.file_size for r in done) if mode is not RemovalMode.LIBRARY else 0
        return RemovalResult(
            removed=tuple(r.id for r in done), bytes_freed=freed, failures=tuple(failures)
        )


def _copies(
    rows: list[Row[Any]], tags: dict[uuid.UUID, tuple[str, ...]]
) -> tuple[DuplicateCopy, ...]:
    keys = [
        (r.device, r.inode) if r.inode is not None and r.device is not None else None for r in rows
    ]
    seen: dict[tuple[int, int], int] = {}
    for key in keys:
        if key is not None:
            seen[key] = seen.get(key, 0) + 1
    return tuple(
        DuplicateCopy(
            file=file_record(row, tags.get(row.id, ())),
            inode_key=key,
            hard_link=key is not None and seen[key] > 1,
        )
        for row, key in zip(rows, keys, strict=True)
    )


async def _live_rows(session: AsyncSession, ids: list[uuid.UUID]) -> list[File]:
    rows = list((await session.scalars(select(File).where(File.id.in_(ids), live()))).all())
    if len(rows) != len(ids):
        raise NotFoundError("Some of these files are no longer in the library; refresh and retry.")
    return rows


async def _refuse_last_copies(
    session: AsyncSession, rows: list[File], chosen: set[uuid.UUID]
) -> None:
    """Every hash touched must keep at least one live copy outside ``chosen``."""
    hashes = {r.hash_value for r in rows}
    if None in hashes:
        raise ConflictError("A file without a hash cannot be removed as a duplicate; rescan first.")
    statement = select(File.id, File.hash_value).where(File.hash_value.in_(hashes), live())
    keep: dict[str, int] = dict.fromkeys((h for h in hashes if h), 0)
    for file_id, hash_value in await session.execute(statement):
        if file_id not in chosen and hash_value is not None:
            keep[hash_value] += 1
    lost = [h for h, count in keep.items() if count == 0]
    if lost:
        raise ConflictError(
            f"That would remove every copy of {len(lost)} file(s); keep at least one copy "
            "of each group. Nothing was removed."
        )


def _remove_from_disk(
    rows: list[File], mode: RemovalMode
) -> tuple[list[File], list[tuple[str, str]]]:
    done: list[File] = []
    failures: list[tuple[str, str]] = []
    for row in rows:
        path = from_stored(row.file_path, row.raw_path)
        try:
            if mode is RemovalMode.TRASH:
                send2trash(path)
            else:
                os.remove(path)
        except FileNotFoundError:
            done.append(row)  # already gone from disk: forgetting it is right
        except Exception as error:  # send2trash raises its own types; report every one
            failures.append((row.file_path, str(error) or type(error).__name__))
        else:
            done.append(row)
    return done, failures
