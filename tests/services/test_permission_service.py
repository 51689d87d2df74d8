"""PermissionService and the access rules every service applies, on both backends.

The guest here is a ``Services`` built with a guest identity over the test's connection,
so what is tested is the services' own checks (on PostgreSQL the server's row-level
security is tested separately, in tests/db/test_row_level_security.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text

from filemeta_gui.domain.enums import AccessType, Role
from filemeta_gui.domain.errors import NotFoundError, PermissionDeniedError, ValidationError
from filemeta_gui.domain.records import PageRequest, UserRecord
from filemeta_gui.domain.removal import RemovalMode
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from tests.repositories.factories import add_files, digest, file_row

NewLogin = Callable[[str], str]
PATHS = ("/lib/a/one.txt", "/lib/a/two.txt", "/lib/b/three.txt", "/lib/b/four.txt")


@pytest.fixture
async def files(services: Services) -> dict[str, uuid.UUID]:
    async with services.database.session() as session:
        rows = await add_files(
            session,
            *(file_row(p, hash_value=digest("same"), file_size=7) for p in PATHS),
        )
    return {row.file_path: row.id for row in rows}


@pytest.fixture
async def guest(services: Services, new_login: NewLogin) -> UserRecord:
    return await services.users.add(new_login("guest"), "10.1.0.0/16")


def as_user(services: Services, user: UserRecord) -> Services:
    return Services(services.database, Identity(user=user, login=user.login))


async def permission_rows(services: Services) -> list[tuple[str, str, str]]:
    async with services.database.session() as session:
        rows = await session.execute(
            text(
                "SELECT CAST(user_id AS TEXT), CAST(file_id AS TEXT), access_type "
                "FROM permissions ORDER BY 1, 2"
            )
        )
        return [tuple(str(v) for v in row) for row in rows]  # type: ignore[misc]


async def test_grant_change_revoke_many_files_at_once(
    services: Services, files: dict[str, uuid.UUID], guest: UserRecord
) -> None:
    ids = [files[p] for p in PATHS[:3]]
    assert await services.permissions.grant(guest.login or "", AccessType.READ, ids) == 3
    assert await services.permissions.grant(guest.id, AccessType.READ, ids) == 0  # no change
    assert await services.permissions.change(guest.id, AccessType.WRITE, ids[:2]) == 2
    held = await services.permissions.for_files(ids)
    assert [(p.file_path, p.login, p.access_type) for p in held] == [
        (PATHS[0], guest.login, AccessType.WRITE),
        (PATHS[1], guest.login, AccessType.WRITE),
        (PATHS[2], guest.login, AccessType.READ),
    ]
    assert [p.access_type for p in await services.permissions.for_file(ids[2])] == [AccessType.READ]
    assert await services.permissions.revoke(guest.id, ids[:1]) == 1
    access = await services.permissions.access_of_user(guest.id)
    assert not access.everything
    assert [(a.file.file_path, a.level) for a in access.files] == [
        (PATHS[1], AccessType.WRITE),
        (PATHS[2], AccessType.READ),
    ]


async def test_access_of_an_admin_is_everything(services: Services) -> None:
    me = services.identity.user
    assert me is not None
    access = await services.permissions.access_of_user(me.id)
    assert access.everything and access.files == ()


async def test_granting_to_a_missing_user_changes_nothing(
    services: Services, files: dict[str, uuid.UUID]
) -> None:
    with pytest.raises(NotFoundError, match="no user"):
        await services.permissions.grant("nobody_at_all", AccessType.READ, list(files.values()))
    with pytest.raises(NotFoundError, match="no user"):
        await services.permissions.grant(uuid.uuid4(), AccessType.READ, list(files.values()))
    assert await permission_rows(services) == []


async def test_granting_a_missing_file_changes_nothing(
    services: Services, files: dict[str, uuid.UUID], guest: UserRecord
) -> None:
    chosen = [files[PATHS[0]], uuid.uuid4(), files[PATHS[1]]]
    with pytest.raises(NotFoundError, match="1 of the 3 chosen files"):
        await services.permissions.grant(guest.id, AccessType.WRITE, chosen)
    assert await permission_rows(services) == []


async def test_granting_to_an_admin_or_nothing_is_refused(
    services: Services, files: dict[str, uuid.UUID], new_login: NewLogin
) -> None:
    admin = await services.users.add(new_login("admin"), "10.2.0.1", Role.ADMIN)
    with pytest.raises(ValidationError, match="is an admin"):
        await services.permissions.grant(admin.id, AccessType.READ, list(files.values()))
    with pytest.raises(ValidationError, match="at least one file"):
        await services.permissions.grant(admin.id, AccessType.READ, [])
    with pytest.raises(ValueError):
        await services.permissions.grant(admin.id, "own", list(files.values()))  # type: ignore[arg-type]
    assert await permission_rows(services) == []


async def test_a_guest_calling_the_permission_service_is_refused(
    services: Services, files: dict[str, uuid.UUID], guest: UserRecord
) -> None:
    mine = as_user(services, guest)
    ids = list(files.values())
    for attempt in (
        mine.permissions.grant(guest.id, AccessType.DELETE, ids),
        mine.permissions.revoke(guest.id, ids),
        mine.permissions.for_files(ids),
        mine.permissions.access_of_user(guest.id),
        mine.permissions.files_at(["/lib"]),
    ):
        with pytest.raises(PermissionDeniedError, match="Only an admin"):
            await attempt
    assert await permission_rows(services) == []


async def test_files_at_takes_files_and_folders(
    services: Services, files: dict[str, uuid.UUID]
) -> None:
    found = await services.permissions.files_at(["/lib/b", PATHS[0], "/lib/b/"])
    assert [f.file_path for f in found] == [PATHS[0], "/lib/b/four.txt", "/lib/b/three.txt"]
    with pytest.raises(NotFoundError, match="/lib/c"):
        await services.permissions.files_at([PATHS[0], "/lib/c"])
    with pytest.raises(NotFoundError):
        await services.permissions.files_at(["/li"])  # a prefix of a name is not a folder


# -- the rules, as every service applies them -------------------------------------------


async def test_a_guest_sees_exactly_what_they_may_read(
    services: Services, files: dict[str, uuid.UUID], guest: UserRecord
) -> None:
    await services.permissions.grant(guest.id, AccessType.READ, [files[PATHS[0]]])
    await services.permissions.grant(guest.id, AccessType.DELETE, [files[PATHS[2]]])
    mine = as_user(services, guest)
    page = await mine.library.page("", PageRequest())
    assert sorted((r.file_path, r.access) for r in page.rows) == [
        (PATHS[0], AccessType.READ),
        (PATHS[2], AccessType.DELETE),
    ]
    assert await mine.library.count() == 2
    assert (await mine.library.stats()).files == 2
    got = await mine.library.get_many(list(files.values()))
    assert [r.file_path for r in got] == [PATHS[0], PATHS[2]]
    with pytest.raises(NotFoundError):
        await mine.library.get(files[PATHS[1]])
    # Four copies share a hash; the guest sees two of them: one group of two.
    groups = await mine.duplicates.groups()
    assert [sorted(c.file.file_path for c in g.copies) for g in groups] == [
        sorted([PATHS[0], PATHS[2]])
    ]


async def test_tagging_needs_write_and_removing_needs_delete(
    services: Services, files: dict[str, uuid.UUID], guest: UserRecord
) -> None:
    read, write, delete = files[PATHS[0]], files[PATHS[1]], files[PATHS[2]]
    await services.permissions.grant(guest.id, AccessType.READ, [read])
    await services.permissions.grant(guest.id, AccessType.WRITE, [write])
    await services.permissions.grant(guest.id, AccessType.DELETE, [delete])
    mine = as_user(services, guest)
    with pytest.raises(PermissionDeniedError, match="needs write"):
        await mine.tags.attach(["holiday"], [read, write])
    assert await mine.tags.attach(["holiday"], [write, delete]) == 2
    assert await mine.tags.detach(["holiday"], [write]) == 1
    with pytest.raises(PermissionDeniedError, match="needs delete"):
        await mine.library.remove([write])
    with pytest.raises(PermissionDeniedError, match="needs delete"):
        await mine.duplicates.remove([write], RemovalMode.LIBRARY)
    assert await mine.library.remove([delete]) == 1
    assert await mine.library.restore([delete]) == 1
    with pytest.raises(PermissionDeniedError, match="Only an admin"):
        await mine.tags.create("new tag")
    with pytest.raises(PermissionDeniedError, match="Only an admin"):
        await mine.saved_searches.save("mine", "holiday")


async def test_nobody_sees_nothing_and_is_told_why(
    services: Services, files: dict[str, uuid.UUID]
) -> None:
    nobody = Services(
        services.database, Identity(user=None, login="stranger", problem="Not registered.")
    )
    assert (await nobody.library.page("", PageRequest())).rows == ()
    assert await nobody.library.count() == 0
    assert await nobody.library.find_by_paths(list(PATHS)) == {}
    assert await nobody.tags.list() == []
    assert await nobody.folders.list() == []
    assert await nobody.duplicates.groups() == []
    assert await nobody.saved_searches.list() == []
    with pytest.raises(PermissionDeniedError, match="Not registered"):
        await nobody.library.remove([files[PATHS[0]]])
