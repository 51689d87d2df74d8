"""Migration 0004 (row-level security): up, down and up again, by a superuser and by the
database owner who is not one (the team-server set-up of docs/TEAM_SERVER.md)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from filemeta_gui.db import migrate
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.errors import PermissionDeniedError
from tests.support.pg import PgServer

TABLES = {"users", "folders", "files", "permissions", "tags", "file_tags", "saved_searches"}
KINDS = ("owner", "admin", "guest", "definer")


async def _fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def rls_state(url: str) -> dict[str, object]:
    """What a reviewer would look at: table security, owners, policies, helpers, roles."""
    tables = await _fetch(
        url,
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "pg_get_userbyid(c.relowner) AS owner FROM pg_class c "
        "WHERE c.relname = ANY($1::text[]) AND c.relkind = 'r' ORDER BY 1",
        sorted(TABLES),
    )
    policies = await _fetch(
        url, "SELECT tablename, policyname, permissive FROM pg_policies ORDER BY 1, 2"
    )
    helpers = await _fetch(
        url, "SELECT proname FROM pg_proc WHERE proname LIKE 'filemeta\\_%' ORDER BY 1"
    )
    database = (await _fetch(url, "SELECT current_database() AS name"))[0]["name"]
    roles = await _fetch(
        url,
        "SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY 1",
        [f"{database}_{kind}" for kind in KINDS],
    )
    return {
        "secured": {
            r["relname"] for r in tables if r["relrowsecurity"] and r["relforcerowsecurity"]
        },
        "owners": {r["relname"]: r["owner"] for r in tables},
        "policies": [(p["tablename"], p["policyname"], p["permissive"]) for p in policies],
        "helpers": [h["proname"] for h in helpers],
        "roles": [r["rolname"] for r in roles],
        "database": database,
    }


def _check_up(state: dict[str, object]) -> None:
    assert state["secured"] == TABLES
    owner = f"{state['database']}_owner"
    assert set(state["owners"].values()) == {owner}  # type: ignore[attr-defined]
    policies = state["policies"]
    assert isinstance(policies, list)
    for table in TABLES:
        mine = [p for p in policies if p[0] == table]
        assert (table, f"filemeta_{table}_registered_address", "RESTRICTIVE") in mine
        assert any(p[2] == "PERMISSIVE" for p in mine)
    assert "filemeta_whoami" in state["helpers"]  # type: ignore[operator]
    assert len(state["roles"]) == len(KINDS)  # type: ignore[arg-type]


def _check_down(state: dict[str, object], migrator: str) -> None:
    assert state["secured"] == set()
    assert set(state["owners"].values()) == {migrator}  # type: ignore[attr-defined]
    assert state["policies"] == []
    # 0003's notify function stays; everything of 0004 is gone.
    assert state["helpers"] == ["filemeta_notify_change"]
    assert state["roles"] == []


async def _cycle(url: str, migrator: str) -> None:
    database = await Database.open(url, upgrade=False)
    try:
        for _ in range(2):
            await migrate.run_command(database, "upgrade", "head")
            _check_up(await rls_state(url))
            await migrate.run_command(database, "downgrade", "0003")
            _check_down(await rls_state(url), migrator)
        await migrate.run_command(database, "upgrade", "head")
        _check_up(await rls_state(url))
    finally:
        await database.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_up_down_up_as_superuser(empty_db_url: str) -> None:
    await _cycle(empty_db_url, "postgres")


def _owned_database(pg_server: PgServer, attributes: str) -> Iterator[tuple[str, str]]:
    login = f"fm_owner_{uuid.uuid4().hex[:10]}"
    pg_server.run(f'CREATE ROLE "{login}" LOGIN {attributes}')
    pg_server.roles.append(login)
    name = pg_server.create_database()
    pg_server.run(f'ALTER DATABASE "{name}" OWNER TO "{login}"')
    yield pg_server.url_for(name, user=login), login
    pg_server.drop_database(name)
    pg_server.run(f'DROP ROLE IF EXISTS "{login}"')


@pytest.fixture
def owner_database(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    """A database owned by a login with CREATEROLE that is not a superuser."""
    yield from _owned_database(pg_server, "CREATEROLE")


@pytest.fixture
def plain_owner_database(pg_server: PgServer) -> Iterator[tuple[str, str]]:
    """A database owned by a login without CREATEROLE."""
    yield from _owned_database(pg_server, "")


async def test_up_down_up_as_the_database_owner(owner_database: tuple[str, str]) -> None:
    url, login = owner_database
    await _cycle(url, login)
    # The owner keeps owner-group membership (for later migrations), not the definer's.
    rows = await _fetch(
        url,
        "SELECT g.kind FROM filemeta_group_roles() g WHERE pg_has_role($1, g.role_name, 'MEMBER')",
        login,
    )
    assert sorted(r["kind"] for r in rows) == ["owner"]


async def test_without_createrole_the_migration_says_what_is_needed(
    plain_owner_database: tuple[str, str],
) -> None:
    url, _login = plain_owner_database
    with pytest.raises(PermissionDeniedError, match="CREATEROLE"):
        await Database.open(url)
    database = await Database.open(url, upgrade=False)
    try:  # one transaction: nothing of the upgrade stayed
        assert (await migrate.schema_state(database)).current is None
    finally:
        await database.dispose()
