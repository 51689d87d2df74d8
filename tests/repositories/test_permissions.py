"""PermissionRepository: one level per pair, nested levels, grant/revoke sets of files."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import AccessType
from filemeta_gui.domain.errors import ConflictError
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository, PermissionRepository
from filemeta_gui.repositories.convert import permission_record
from filemeta_gui.repositories.permissions import granted
from tests.repositories.factories import add_files, add_user, file_row

READ, WRITE, DELETE = AccessType.READ, AccessType.WRITE, AccessType.DELETE


@pytest.mark.parametrize(
    ("held", "allowed"),
    [
        (None, set()),
        (READ, {READ}),
        (WRITE, {READ, WRITE}),
        (DELETE, {READ, WRITE, DELETE}),
    ],
)
async def test_levels_nest(
    database: Database, held: AccessType | None, allowed: set[AccessType]
) -> None:
    async with database.session() as session:
        user = await add_user(session)
        (f,) = await add_files(session, file_row("/p/1"))
        permissions = PermissionRepository(session)
        if held is not None:
            await permissions.grant(user.id, [f.id], held)
        assert await permissions.level(user.id, f.id) == held
        for needed in AccessType:
            assert await permissions.has_access(user.id, f.id, needed) is (needed in allowed)


async def test_grant_changes_the_level_in_place_and_revoke_removes_it(database: Database) -> None:
    async with database.session() as session:
        user = await add_user(session)
        files = await add_files(session, *[file_row(f"/g/{i}") for i in range(3)])
        ids = [f.id for f in files]
        permissions = PermissionRepository(session)
        assert await permissions.grant(user.id, ids, READ) == 3
        assert await permissions.grant(user.id, ids, READ) == 0  # same level: no change
        assert await permissions.grant(user.id, ids[:1], DELETE) == 1
        assert await permissions.count() == 3  # one row per (user, file), always
        assert await permissions.level(user.id, ids[0]) == DELETE
        assert await permissions.grant(user.id, ids[:1], READ) == 1  # downgrades too
        assert await permissions.level(user.id, ids[0]) == READ
        assert await permissions.revoke(user.id, ids[1:]) == 2
        assert await permissions.revoke(user.id, ids[1:]) == 0
        assert await permissions.level(user.id, ids[1]) is None


async def test_listing_loads_user_and_file_eagerly(database: Database) -> None:
    async with database.session() as session:
        alice = await add_user(session, "10.0.0.1", login="alice")
        bob = await add_user(session, "10.0.0.2", login="bob")
        a, b = await add_files(session, file_row("/l/a"), file_row("/l/b"))
        permissions = PermissionRepository(session)
        await permissions.grant(alice.id, [b.id, a.id], WRITE)
        await permissions.grant(bob.id, [a.id], READ)
    async with database.session() as session:
        permissions = PermissionRepository(session)
        mine = [permission_record(p) for p in await permissions.for_user(alice.id)]
        assert [(p.file_path, p.login, p.access_type) for p in mine] == [
            ("/l/a", "alice", WRITE),
            ("/l/b", "alice", WRITE),
        ]
        theirs = await permissions.for_file(a.id)
        assert [(p.user.login, p.access_type) for p in theirs] == [("alice", WRITE), ("bob", READ)]
        plain = await permissions.require(theirs[0].id)
        assert "user" in inspect(plain).unloaded or plain is theirs[0]


async def test_granted_condition_filters_a_page(database: Database) -> None:
    async with database.session() as session:
        user = await add_user(session)
        files = await add_files(session, *[file_row(f"/v/{i}") for i in range(4)])
        permissions = PermissionRepository(session)
        await permissions.grant(user.id, [files[0].id], READ)
        await permissions.grant(user.id, [files[1].id], WRITE)
        repo = FileRepository(session)
        readable, _ = await repo.page(PageRequest(), where=granted(user.id))
        writable, _ = await repo.page(PageRequest(), where=granted(user.id, WRITE))
        assert [f.file_path for f in readable] == ["/v/0", "/v/1"]
        assert [f.file_path for f in writable] == ["/v/1"]


async def test_grant_on_a_missing_file_is_a_conflict_and_writes_nothing(
    database: Database,
) -> None:
    async with database.session() as session:
        user = await add_user(session)
        (f,) = await add_files(session, file_row("/x/1"))
        user_id, file_id = user.id, f.id
    with pytest.raises(ConflictError):
        async with database.session() as session:
            permissions = PermissionRepository(session)
            await permissions.grant(user_id, [file_id], READ)
            await permissions.grant(user_id, [uuid.uuid4()], READ)
    async with database.session() as session:
        assert await PermissionRepository(session).count() == 0


async def test_allowed_files_and_levels_for_a_page(database: Database) -> None:
    async with database.session() as session:
        user, other = await add_user(session, "10.0.0.1"), await add_user(session, "10.0.0.2")
        files = await add_files(session, *[file_row(f"/a/{i}") for i in range(4)])
        ids = [f.id for f in files]
        permissions = PermissionRepository(session)
        await permissions.grant(user.id, [ids[0]], READ)
        await permissions.grant(user.id, [ids[1]], WRITE)
        await permissions.grant(user.id, [ids[2]], DELETE)
        await permissions.grant(other.id, [ids[3]], DELETE)
        assert await permissions.allowed_files(user.id, ids, READ) == set(ids[:3])
        assert await permissions.allowed_files(user.id, ids, WRITE) == set(ids[1:3])
        assert await permissions.allowed_files(user.id, [*ids, ids[2]], DELETE) == {ids[2]}
        assert await permissions.levels(user.id, ids) == {
            ids[0]: READ,
            ids[1]: WRITE,
            ids[2]: DELETE,
        }
        assert await permissions.levels(user.id, []) == {}
