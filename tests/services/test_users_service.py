"""UserService on both backends: every rule, every refusal leaves the library unchanged.

On PostgreSQL a user is also a login role of the cluster: these tests check the role and
its group membership as the server sees them (``pg_roles``, ``pg_auth_members``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import text

from filemeta_gui.db.scram import scram_sha256_verifier
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.services.users import UserService

NewLogin = Callable[[str], str]


async def snapshot(services: Services) -> list[tuple[object, ...]]:
    """Every users row as the database holds it (to prove a refusal changed nothing)."""
    async with services.database.session() as session:
        rows = await session.execute(
            text("SELECT login, ip_address, role, disabled FROM users ORDER BY id")
        )
        return [tuple(str(v) for v in row) for row in rows]


async def server_groups(services: Services, login: str) -> set[str]:
    """Which FileMeta group roles the login is a member of (empty set: none or no role)."""
    async with services.database.session() as session:
        rows = await session.execute(
            text(
                "SELECT g.kind FROM filemeta_group_roles() AS g "
                "JOIN pg_roles AS r ON r.rolname = g.role_name "
                "JOIN pg_auth_members AS m ON m.roleid = r.oid "
                "JOIN pg_roles AS u ON u.oid = m.member WHERE u.rolname = :login"
            ),
            {"login": login},
        )
        return {str(kind) for (kind,) in rows}


async def role_exists(services: Services, login: str) -> bool:
    async with services.database.session() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM pg_roles WHERE rolname = :l"), {"l": login}
        )
        return bool(found)


def pg(services: Services) -> bool:
    return not services.database.is_sqlite


async def test_add_lists_and_creates_the_login_role(
    services: Services, new_login: NewLogin
) -> None:
    login = new_login("alice")
    added = await services.users.add(login, " 10.0.0.0/24 ", Role.GUEST)
    assert (added.login, added.ip_address, added.role, added.disabled) == (
        login,
        "10.0.0.0/24",
        Role.GUEST,
        False,
    )
    listed = {u.login: u for u in await services.users.list()}
    assert listed[login] == added
    assert (await services.users.get(login)).id == added.id
    if pg(services):
        assert await server_groups(services, login) == {"guest"}


@pytest.mark.parametrize(
    "address", ["10.0.0.300", "10.0.0.5/24", "not an address", "", "10.0.0.0/33"]
)
async def test_invalid_address_is_refused_and_nothing_changes(
    services: Services, new_login: NewLogin, address: str
) -> None:
    before = await snapshot(services)
    login = new_login("bad_ip")
    with pytest.raises(ValidationError, match="not an IP address or network"):
        await services.users.add(login, address)
    assert await snapshot(services) == before
    if pg(services):
        assert not await role_exists(services, login)


@pytest.mark.parametrize("login", ["has space", "pg_signal", "1abc", "x" * 64, "semi;colon", ""])
async def test_unusable_login_is_refused(services: Services, login: str) -> None:
    before = await snapshot(services)
    with pytest.raises(ValidationError, match="not a usable login"):
        await services.users.add(login, "10.0.0.1")
    assert await snapshot(services) == before


async def test_a_login_that_exists_is_refused(services: Services, new_login: NewLogin) -> None:
    login = new_login("bob")
    await services.users.add(login, "10.0.0.2")
    before = await snapshot(services)
    with pytest.raises(ConflictError, match="already exists"):
        await services.users.add(login, "10.0.0.3", Role.ADMIN)
    assert await snapshot(services) == before


async def test_roles_change_and_the_group_follows(services: Services, new_login: NewLogin) -> None:
    login = new_login("carol")
    await services.users.add(login, "10.0.0.4")
    promoted = await services.users.set_role(login, Role.ADMIN)
    assert promoted.role is Role.ADMIN
    if pg(services):
        assert await server_groups(services, login) == {"admin"}
    demoted = await services.users.set_role(login, Role.GUEST)
    assert demoted.role is Role.GUEST
    if pg(services):
        assert await server_groups(services, login) == {"guest"}


async def test_the_last_admin_cannot_be_demoted_disabled_or_removed(services: Services) -> None:
    me = services.identity.user
    assert me is not None and services.identity.is_admin
    before = await snapshot(services)
    for attempt in (
        services.users.set_role(me.id, Role.GUEST),
        services.users.disable(me.id),
        services.users.remove(me.id),
    ):
        with pytest.raises(ConflictError, match="last admin"):
            await attempt
    assert await snapshot(services) == before


async def test_another_admin_may_go_but_not_yourself(
    services: Services, new_login: NewLogin
) -> None:
    me = services.identity.user
    assert me is not None
    other = await services.users.add(new_login("dave"), "10.0.0.5", Role.ADMIN)
    # With a second admin the "last admin" rule is satisfied; your own rights still are
    # not yours to take (your session would lose them halfway through).
    with pytest.raises(ValidationError, match=r"(?i)yourself|this computer"):
        await services.users.set_role(me.id, Role.GUEST)
    assert (await services.users.set_role(other.id, Role.GUEST)).role is Role.GUEST


async def test_set_address(services: Services, new_login: NewLogin) -> None:
    login = new_login("erin")
    await services.users.add(login, "10.0.0.6")
    assert (await services.users.set_address(login, "192.168.1.0/24")).ip_address == (
        "192.168.1.0/24"
    )
    before = await snapshot(services)
    with pytest.raises(ValidationError):
        await services.users.set_address(login, "192.168.1.1/24")
    assert await snapshot(services) == before


async def test_disable_then_enable(services: Services, new_login: NewLogin) -> None:
    login = new_login("frank")
    await services.users.add(login, "10.0.0.7")
    assert (await services.users.disable(login)).disabled
    if pg(services):
        assert await server_groups(services, login) == set()
    assert not (await services.users.enable(login)).disabled
    if pg(services):
        assert await server_groups(services, login) == {"guest"}


async def test_remove_forgets_the_user_and_drops_its_login(
    services: Services, new_login: NewLogin
) -> None:
    login = new_login("gina")
    await services.users.add(login, "10.0.0.8")
    await services.users.remove(login)
    assert login not in {u.login for u in await services.users.list()}
    if pg(services):
        assert not await role_exists(services, login)
    with pytest.raises(NotFoundError, match="no user with the login"):
        await services.users.remove(login)


async def test_unknown_users_are_not_found(services: Services) -> None:
    for attempt in (
        services.users.set_role("nobody_here", Role.ADMIN),
        services.users.set_address("nobody_here", "10.0.0.1"),
        services.users.disable("nobody_here"),
        services.users.get("nobody_here"),
    ):
        with pytest.raises(NotFoundError):
            await attempt


async def test_a_guest_calling_the_user_service_is_refused(
    services: Services, new_login: NewLogin
) -> None:
    login = new_login("guest")
    guest = await services.users.add(login, "10.0.0.9")
    before = await snapshot(services)
    as_guest = UserService(services.database, AccessPolicy(Identity(user=guest, login=login)))
    for attempt in (
        as_guest.list(),
        as_guest.add(new_login("sneaky"), "10.0.0.10", Role.ADMIN),
        as_guest.set_role(login, Role.ADMIN),
        as_guest.set_address(login, "0.0.0.0/0"),
        as_guest.remove(login),
    ):
        with pytest.raises(PermissionDeniedError, match="Only an admin"):
            await attempt
    assert await snapshot(services) == before


async def test_nobody_gets_the_reason_with_the_refusal(services: Services) -> None:
    nobody = UserService(
        services.database, AccessPolicy(Identity(user=None, login="x", problem="Not registered."))
    )
    with pytest.raises(PermissionDeniedError, match="Not registered"):
        await nobody.list()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_this_computers_user_is_protected(services: Services, new_login: NewLogin) -> None:
    me = services.identity.user
    assert me is not None and me.login is None
    await services.users.add(new_login("admin2"), "10.0.0.11", Role.ADMIN)
    with pytest.raises(ValidationError, match=r"(?i)this computer|yourself"):
        await services.users.remove(me.id)
    with pytest.raises(ValidationError, match=r"(?i)this computer"):
        await services.users.set_address(me.id, "10.0.0.12")
    with pytest.raises(ValidationError, match="only team servers"):
        await services.users.set_password(me.id, "secret")
    with pytest.raises(ValidationError, match="only team servers"):
        await services.users.add(new_login("pw"), "10.0.0.13", password="secret")


# -- PostgreSQL only: login roles -----------------------------------------------------------


def _check_verifier(stored: str, password: str) -> bool:
    iterations, salt = stored.split("$")[1].split(":")
    return scram_sha256_verifier(password, base64.b64decode(salt), int(iterations)) == stored


async def _stored_password(services: Services, login: str) -> str | None:
    async with services.database.session() as session:
        value = await session.scalar(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :l"), {"l": login}
        )
        return None if value is None else str(value)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_password_is_stored_as_a_scram_verifier(
    services: Services, new_login: NewLogin
) -> None:
    login = new_login("hank")
    await services.users.add(login, "127.0.0.1", password="pässwörd 1")
    stored = await _stored_password(services, login)
    assert stored is not None and stored.startswith("SCRAM-SHA-256$")
    assert _check_verifier(stored, "pässwörd 1")
    await services.users.set_password(login, "another")
    stored = await _stored_password(services, login)
    assert stored is not None and _check_verifier(stored, "another")


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_existing_login_is_adopted_but_its_password_never_touched(
    services: Services, new_login: NewLogin, db_url: str
) -> None:
    login = new_login("dba_made")
    await _superuser(db_url).execute(f'CREATE ROLE "{login}" LOGIN')
    before = await snapshot(services)
    with pytest.raises(PermissionDeniedError, match="existed before FileMeta"):
        await services.users.add(login, "127.0.0.1", password="x")
    assert await snapshot(services) == before  # one transaction: the row went too
    record: UserRecord = await services.users.add(login, "127.0.0.1")
    assert await server_groups(services, login) == {"guest"}
    await services.users.remove(record.id)
    assert await role_exists(services, login)  # not FileMeta's to drop
    assert await server_groups(services, login) == set()


class _superuser:
    """One-off statements on the test database as the test's superuser."""

    def __init__(self, url: str) -> None:
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://")

    async def execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
