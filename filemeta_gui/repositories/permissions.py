"""``PermissionRepository``: one level per (user, file); delete ⊃ write ⊃ read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import contains_eager

from filemeta_gui.db.models import File, Permission, User
from filemeta_gui.db.types import utcnow
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.repositories.base import (
    ID_CHUNK,
    BaseRepository,
    among_ids,
    chunked,
    dialect_name,
    rowcount,
    unique_ids,
    upsert_insert,
)

# grant(): five bind parameters per row.
GRANT_CHUNK = 1_000


def levels_including(needed: AccessType) -> list[AccessType]:
    """The levels that allow ``needed``: READ -> read, write, delete; DELETE -> delete."""
    return [level for level in AccessType if level.includes(needed)]


def granted(user_id: uuid.UUID, needed: AccessType = AccessType.READ) -> ColumnElement[bool]:
    """A condition on ``File``: the user holds at least ``needed`` on the file.

    Usable as the ``where`` of ``FileRepository.page`` to list what a guest may see.
    """
    return exists().where(
        Permission.file_id == File.id,
        Permission.user_id == user_id,
        Permission.access_type.in_(levels_including(needed)),
    )


class PermissionRepository(BaseRepository[Permission]):
    model = Permission
    noun = "permission"

    async def grant(
        self, user_id: uuid.UUID, file_ids: Iterable[uuid.UUID], level: AccessType
    ) -> int:
        """Give the user ``level`` on each file, replacing a different level held before.

        One ``INSERT ... ON CONFLICT (user_id, file_id) DO UPDATE`` per batch. A file id
        that does not exist breaks the foreign key (``ConflictError`` from the session).

        Returns:
            How many permissions were created or changed (an equal grant changes nothing).
        """
        now = utcnow()
        rows = [
            {"user_id": user_id, "file_id": file_id, "access_type": level, "granted_at": now}
            for file_id in unique_ids(file_ids)
        ]
        changed = 0
        for batch in chunked(rows, GRANT_CHUNK):
            insert = upsert_insert(self.session, Permission).values(batch)
            statement = insert.on_conflict_do_update(
                index_elements=[Permission.user_id, Permission.file_id],
                set_={
                    "access_type": insert.excluded.access_type,
                    "granted_at": insert.excluded.granted_at,
                },
                where=Permission.access_type != insert.excluded.access_type,
            )
            changed += rowcount(await self.session.execute(statement))
        return changed

    async def revoke(self, user_id: uuid.UUID, file_ids: Iterable[uuid.UUID]) -> int:
        removed = 0
        for batch in chunked(unique_ids(file_ids), ID_CHUNK):
            query = delete(Permission).where(
                Permission.user_id == user_id, Permission.file_id.in_(batch)
            )
            removed += rowcount(await self.session.execute(query))
        return removed

    async def for_user(self, user_id: uuid.UUID) -> list[Permission]:
        """The user's permissions with ``user`` and ``file`` loaded, by file path."""
        return await self._listed(Permission.user_id == user_id)

    async def for_file(self, file_id: uuid.UUID) -> list[Permission]:
        """Who may do what to a file, with ``user`` and ``file`` loaded, by login."""
        return await self._listed(Permission.file_id == file_id)

    async def for_files(self, file_ids: Iterable[uuid.UUID]) -> list[Permission]:
        """Every permission on these files, with ``user`` and ``file`` loaded, by path."""
        found: list[Permission] = []
        for batch in chunked(unique_ids(file_ids), ID_CHUNK):
            found.extend(await self._listed(Permission.file_id.in_(batch)))
        found.sort(key=lambda p: (p.file.file_path, p.user.login or "", str(p.id)))
        return found

    async def level(self, user_id: uuid.UUID, file_id: uuid.UUID) -> AccessType | None:
        query = select(Permission.access_type).where(
            Permission.user_id == user_id, Permission.file_id == file_id
        )
        return await self.session.scalar(query)

    async def has_access(self, user_id: uuid.UUID, file_id: uuid.UUID, needed: AccessType) -> bool:
        """True when the user's level on the file includes ``needed``."""
        return await self.exists(
            Permission.user_id == user_id,
            Permission.file_id == file_id,
            Permission.access_type.in_(levels_including(needed)),
        )

    async def allowed_files(
        self, user_id: uuid.UUID, file_ids: Iterable[uuid.UUID], needed: AccessType
    ) -> set[uuid.UUID]:
        """Those of ``file_ids`` on which the user's level includes ``needed``."""
        allowed: set[uuid.UUID] = set()
        for batch in chunked(unique_ids(file_ids), ID_CHUNK):
            query = select(Permission.file_id).where(
                Permission.user_id == user_id,
                Permission.file_id.in_(batch),
                Permission.access_type.in_(levels_including(needed)),
            )
            allowed.update((await self.session.scalars(query)).all())
        return allowed

    async def levels(
        self, user_id: uuid.UUID, file_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, AccessType]:
        """The user's level on each of ``file_ids`` that has one (a page of the file list)."""
        wanted = unique_ids(file_ids)
        query = select(Permission.file_id, Permission.access_type).where(
            Permission.user_id == user_id,
            among_ids(Permission.file_id, wanted, dialect_name(self.session)),
        )
        return {file_id: level for file_id, level in await self.session.execute(query)}

    async def _listed(self, condition: ColumnElement[bool]) -> list[Permission]:
        # Many-to-one both ways: the joins the query needs for ordering also fill
        # ``user`` and ``file`` (relationships are lazy="raise").
        query = (
            select(Permission)
            .join(Permission.file)
            .join(Permission.user)
            .where(condition)
            .options(contains_eager(Permission.user), contains_eager(Permission.file))
            .order_by(File.file_path, User.login, Permission.id)
        )
        return list((await self.session.scalars(query)).all())
