"""Who may read, write or delete which file: granting, changing, revoking (admins only).

One permission row per (user, file) holds one level; levels nest (delete ⊃ write ⊃
read), so "changing" a level is granting another. Every change is one transaction over
many files at once. Admins hold everything without rows, so granting to an admin is
refused rather than stored as a row that would mean nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File, Permission
from filemeta_gui.domain.access import FileAccess, UserAccess
from filemeta_gui.domain.enums import AccessType, Role
from filemeta_gui.domain.errors import NotFoundError, ValidationError
from filemeta_gui.domain.records import FileRecord, PermissionRecord
from filemeta_gui.repositories.base import ID_CHUNK, chunked, unique_ids
from filemeta_gui.repositories.convert import file_record, permission_record, user_record
from filemeta_gui.repositories.files import live
from filemeta_gui.repositories.permissions import PermissionRepository
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.users import UserRef, describe, find_user

# Folder prefixes per query when paths are resolved (one OR of LIKEs each).
PREFIX_CHUNK = 50


class PermissionService:
    def __init__(self, database: Database, policy: AccessPolicy) -> None:
        self.database = database
        self.policy = policy

    async def grant(self, user: UserRef, level: AccessType, file_ids: Iterable[uuid.UUID]) -> int:
        """Give ``user`` exactly ``level`` on every file (raising or lowering a level held).

        Returns:
            How many permissions were created or changed.
        """
        self.policy.require_admin("grant access")
        level, ids = AccessType(level), _chosen(file_ids)
        async with self.database.session(write=True) as session:
            row = await find_user(session, user)
            if row.role is Role.ADMIN:
                raise ValidationError(
                    f"{describe(row)} is an admin and may already do everything: "
                    "only guests are given access file by file."
                )
            await _require_files(session, ids)
            return await PermissionRepository(session).grant(row.id, ids, level)

    change = grant
    """Changing a level is granting the new one: a (user, file) pair holds one level."""

    async def revoke(self, user: UserRef, file_ids: Iterable[uuid.UUID]) -> int:
        """Take every level on these files away from ``user``; returns rows removed."""
        self.policy.require_admin("revoke access")
        ids = _chosen(file_ids)
        async with self.database.session(write=True) as session:
            row = await find_user(session, user)
            return await PermissionRepository(session).revoke(row.id, ids)

    async def for_file(self, file_id: uuid.UUID) -> list[PermissionRecord]:
        """Who holds which level on one file, by login."""
        return await self.for_files([file_id])

    async def for_files(self, file_ids: Iterable[uuid.UUID]) -> list[PermissionRecord]:
        """Every permission on these files, with login and path, by path then login."""
        self.policy.require_admin("see who has access")
        ids = unique_ids(file_ids)
        async with self.database.session() as session:
            rows = await PermissionRepository(session).for_files(ids)
        return [permission_record(row) for row in rows]

    async def access_of_user(self, user: UserRef, limit: int | None = None) -> UserAccess:
        """The live files ``user`` can reach with their level, by path."""
        self.policy.require_admin("see who has access")
        async with self.database.session() as session:
            row = await find_user(session, user)
            record = user_record(row)
            if row.role is Role.ADMIN and not row.disabled:
                return UserAccess(user=record, everything=True)
            query = (
                select(File, Permission.access_type)
                .join(Permission, Permission.file_id == File.id)
                .where(Permission.user_id == row.id, live())
                .order_by(File.file_path, File.id)
                .limit(limit)
            )
            pairs = (await session.execute(query)).all()
        files = tuple(
            FileAccess(file=file_record(f, access=level), level=level) for f, level in pairs
        )
        return UserAccess(user=record, everything=False, files=files)

    async def files_at(self, paths: Sequence[str]) -> list[FileRecord]:
        """The live files at these stored paths; a folder's path means every file under it.

        Raises:
            NotFoundError: naming the paths that match no file (nothing is returned then).
        """
        self.policy.require_admin("choose files for permissions")
        wanted = [p.rstrip("/") or "/" for p in dict.fromkeys(paths)]
        if not wanted:
            raise ValidationError("Name at least one file or folder.")
        async with self.database.session() as session:
            exact = await _exact(session, wanted)
            missing = [p for p in wanted if p not in exact]
            under = await _under(session, missing)
        missing = [p for p in missing if not any(f.file_path.startswith(p + "/") for f in under)]
        if missing:
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            raise NotFoundError(f"Not in the library (scan it first): {shown}")
        files = {f.id: f for f in [*exact.values(), *under]}
        return sorted((file_record(f) for f in files.values()), key=lambda r: r.file_path)


def _chosen(file_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    ids = unique_ids(file_ids)
    if not ids:
        raise ValidationError("Choose at least one file.")
    return ids


async def _require_files(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Refuse (before any change) when some of these files are not in the library."""
    known = 0
    for batch in chunked(ids, ID_CHUNK):
        query = select(func.count()).select_from(File).where(File.id.in_(batch))
        known += int(await session.scalar(query) or 0)
    if known < len(ids):
        raise NotFoundError(
            f"{len(ids) - known} of the {len(ids)} chosen files are not in the library "
            "(any more): nothing was granted."
        )


async def _exact(session: AsyncSession, paths: list[str]) -> dict[str, File]:
    found: dict[str, File] = {}
    for batch in chunked(paths, ID_CHUNK):
        rows = await session.scalars(select(File).where(File.file_path.in_(batch), live()))
        found.update((row.file_path, row) for row in rows)
    return found


async def _under(session: AsyncSession, folders: list[str]) -> list[File]:
    found: list[File] = []
    for batch in chunked(folders, PREFIX_CHUNK):
        # autoescape: a folder named "50%_off" matches itself, not a pattern.
        inside = or_(*(File.file_path.startswith(f"{p}/", autoescape=True) for p in batch))
        found.extend((await session.scalars(select(File).where(inside, live()))).all())
    return found
