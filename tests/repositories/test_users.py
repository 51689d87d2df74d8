"""UserRepository: addresses inside registered networks, logins and roles."""

from __future__ import annotations

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.errors import ValidationError
from filemeta_gui.repositories import UserRepository
from filemeta_gui.repositories.convert import user_record
from tests.repositories.factories import add_user


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.1.2.3", "exact"),  # the host itself beats every network holding it
        ("10.1.2.4", "lan24"),  # narrowest network first
        ("10.1.9.9", "lan8"),
        ("10.1.2.0/25", "lan24"),  # a network inside a registered one
        ("192.168.0.1", None),
        ("2001:db8::1", "v6"),
        ("2001:db9::1", None),
        ("::1", "loop6"),
    ],
)
async def test_by_ip_matches_addresses_inside_networks(
    database: Database, address: str, expected: str | None
) -> None:
    async with database.session() as session:
        for ip, login in [
            ("10.0.0.0/8", "lan8"),
            ("10.1.2.0/24", "lan24"),
            ("10.1.2.3", "exact"),
            ("2001:db8::/32", "v6"),
            ("::1", "loop6"),
        ]:
            await add_user(session, ip, login=login)
        user = await UserRepository(session).by_ip(address)
        assert (user.login if user else None) == expected


async def test_by_ip_refuses_text_that_is_no_address(database: Database) -> None:
    async with database.session() as session:
        with pytest.raises(ValidationError, match="not an IP address"):
            await UserRepository(session).by_ip("10.0.0.300")
    # Bound values are checked when the row is flushed; the unit of work reports the
    # domain error itself (not SQLAlchemy's wrapper) and stores nothing.
    with pytest.raises(ValidationError, match="host bits set"):
        async with database.session() as session:
            await add_user(session, "10.0.0.1")
            await add_user(session, "10.0.0.5/24")
    async with database.session() as session:
        assert await UserRepository(session).count() == 0


async def test_by_login_and_role(database: Database) -> None:
    async with database.session() as session:
        admin = await add_user(session, "127.0.0.1", Role.ADMIN, login="alice")
        await add_user(session, "10.0.0.2", login="bob")
        await add_user(session, "10.0.0.3", login="carol")
        users = UserRepository(session)
        assert await users.by_login("alice") is admin
        assert await users.by_login("nobody") is None
        assert [u.login for u in await users.by_role(Role.GUEST)] == ["bob", "carol"]
    async with database.session() as session:
        loaded = await UserRepository(session).require(admin.id)
        record = user_record(loaded)
        assert (record.ip_address, record.role, record.login) == ("127.0.0.1", Role.ADMIN, "alice")
        assert record.created_at.tzinfo is not None and not record.disabled
