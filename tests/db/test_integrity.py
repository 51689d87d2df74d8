"""Rules of the data: each violated constraint is a ConflictError and leaves nothing behind;
cascades; relationships that refuse to lazy-load."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import Base, File, FileTag, Folder, Permission, Tag, User
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import ConflictError
from filemeta_gui.repositories import (
    FileRepository,
    FolderRepository,
    PermissionRepository,
    TagRepository,
    UserRepository,
)
from tests.repositories.factories import add_files, add_user, file_row

Violation = Callable[[AsyncSession], Awaitable[object]]


async def _duplicate_permission(session: AsyncSession) -> None:
    user = await add_user(session)
    (f,) = await add_files(session, file_row("/v/1"))
    permissions = PermissionRepository(session)
    await permissions.create(user_id=user.id, file_id=f.id, access_type=AccessType.READ)
    await permissions.create(user_id=user.id, file_id=f.id, access_type=AccessType.WRITE)


async def _negative_size(session: AsyncSession) -> None:
    await add_files(session, file_row("/v/ok"), file_row("/v/negative", file_size=-1))


async def _dangling_folder(session: AsyncSession) -> None:
    await add_files(session, file_row("/v/ok"))
    await FileRepository(session).create(**file_row("/v/lost", folder_id=uuid.uuid4()))


async def _dangling_permission(session: AsyncSession) -> None:
    user = await add_user(session)
    await PermissionRepository(session).create(
        user_id=user.id, file_id=uuid.uuid4(), access_type=AccessType.READ
    )


async def _duplicate_path(session: AsyncSession) -> None:
    await add_files(session, file_row("/v/same"))
    await FileRepository(session).create(**file_row("/v/same"))


async def _duplicate_tag(session: AsyncSession) -> None:
    await TagRepository(session).bulk_create([{"name": "x"}, {"name": "x"}])


@pytest.mark.parametrize(
    "violation",
    [
        _duplicate_permission,
        _negative_size,
        _dangling_folder,
        _dangling_permission,
        _duplicate_path,
        _duplicate_tag,
    ],
)
async def test_violation_is_a_conflict_and_writes_nothing(
    database: Database, violation: Violation
) -> None:
    with pytest.raises(ConflictError) as caught:
        async with database.session() as session:
            await violation(session)
    assert type(caught.value) is ConflictError
    assert "breaks a rule of the data" in str(caught.value)
    async with database.session() as session:
        for model in (File, User, Permission, Tag):
            count = select(func.count()).select_from(model)
            assert (await session.execute(count)).scalar_one() == 0, model.__name__


async def _count(session: AsyncSession, model: type[Base]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_deleting_a_folder_removes_its_files_links_and_permissions(
    database: Database,
) -> None:
    async with database.session() as session:
        folder = await FolderRepository(session).create(path="/root")
        user = await add_user(session)
        inside, outside = await add_files(
            session, file_row("/root/a", folder_id=folder.id), file_row("/other/b")
        )
        (tag,) = await TagRepository(session).get_or_create(["t"])
        await TagRepository(session).attach([tag.id], [inside.id, outside.id])
        await PermissionRepository(session).grant(user.id, [inside.id], AccessType.READ)
    async with database.session() as session:
        assert await FolderRepository(session).delete(folder.id)
    async with database.session() as session:
        assert [f.file_path for f in await FileRepository(session).find_by()] == ["/other/b"]
        assert await _count(session, FileTag) == 1
        assert await _count(session, Permission) == 0
        assert await _count(session, Tag) == 1 and await _count(session, User) == 1


async def test_deleting_a_user_drops_permissions_and_keeps_owned_files(
    database: Database,
) -> None:
    async with database.session() as session:
        user = await add_user(session)
        (f,) = await add_files(session, file_row("/o/1", owner_id=user.id))
        await PermissionRepository(session).grant(user.id, [f.id], AccessType.DELETE)
    async with database.session() as session:
        assert await UserRepository(session).delete(user.id)
    async with database.session() as session:
        kept = await FileRepository(session).require(f.id)
        assert kept.owner_id is None
        assert await _count(session, Permission) == 0


async def test_relationships_never_lazy_load(database: Database) -> None:
    async with database.session() as session:
        folder = await FolderRepository(session).create(path="/e")
        (f,) = await add_files(session, file_row("/e/1", folder_id=folder.id))
        (tag,) = await TagRepository(session).get_or_create(["eager"])
        await TagRepository(session).attach([tag.id], [f.id])
    async with database.session() as session:
        plain = await FileRepository(session).require(f.id)
        for touch in (lambda: plain.tags, lambda: plain.folder, lambda: plain.permissions):
            with pytest.raises(InvalidRequestError, match="lazy='raise'"):
                touch()
        loaded = await FileRepository(session).require(
            f.id, selectinload(File.tags), selectinload(File.folder)
        )
        assert [t.name for t in loaded.tags] == ["eager"]
        assert loaded.folder is not None and loaded.folder.path == "/e"
        folder_row = await session.get(Folder, folder.id)
        assert folder_row is not None
        with pytest.raises(InvalidRequestError):
            _ = folder_row.files
