"""Versions: an older client opens a newer library read-only and says what it needs; a
newer client upgrades only for admins; two clients never migrate at once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text

from filemeta_gui.db import migrate
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.errors import PermissionDeniedError, ReadOnlyError, SchemaTooNewError
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.repositories import TagRepository
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity, resolve_identity
from filemeta_gui.services.schema import SchemaService
from filemeta_gui.services.tags import TagService
from tests.support.live import WAIT_S, add_file, count, dsn

FUTURE = "9999_future"


async def _stamp_future(db_url: str) -> None:
    database = await Database.open(db_url)
    try:
        await add_file(database, "/library/kept.txt")
        await resolve_identity(database)  # the local admin (SQLite) exists, as after any use
        async with database.session() as session:
            await session.execute(text(f"UPDATE alembic_version SET version_num = '{FUTURE}'"))
    finally:
        await database.dispose()


async def test_an_older_client_opens_a_newer_library_read_only(db_url: str) -> None:
    await _stamp_future(db_url)
    database = await Database.open(db_url, allow_newer_schema=True)
    try:
        assert database.read_only
        reason = database.read_only_reason or ""
        assert FUTURE in reason and "read-only" in reason
        assert migrate.script_directory().get_current_head() in reason
        # Reading works.
        assert await count(database, "SELECT count(*) FROM files") == 1
        # A write session is refused before it starts, with the reason...
        with pytest.raises(ReadOnlyError, match=FUTURE):
            async with database.session(write=True):
                pass
        # ...and a write slipped into a read session is refused by the database itself.
        with pytest.raises(ReadOnlyError, match=FUTURE):
            async with database.session() as session:
                await TagRepository(session).get_or_create(["sneaky"])
        # Through the services too: the user sees the same sentence.
        identity = await resolve_identity(database)
        tags = TagService(database, AccessPolicy(identity))
        with pytest.raises(ReadOnlyError, match="Install a FileMeta that knows schema"):
            await tags.attach(["x"], [])
        status = await SchemaService(database, AccessPolicy(identity)).state()
        assert status.read_only and not status.known and not status.can_upgrade
        assert FUTURE in status.message
    finally:
        await database.dispose()
    # Nothing was written and the schema was left alone.
    database = await Database.open(db_url, upgrade=False)
    try:
        assert (await migrate.schema_state(database)).current == FUTURE
        assert await count(database, "SELECT count(*) FROM tags") == 0
    finally:
        await database.dispose()


async def test_the_services_open_a_newer_library_read_only(db_url: str) -> None:
    await _stamp_future(db_url)
    with pytest.raises(SchemaTooNewError):
        await Services.open(db_url)
    services = await Services.open(db_url, allow_newer_schema=True)
    try:
        assert services.database.read_only and services.identity.is_admin
        assert await services.library.count() == 1
        with pytest.raises(ReadOnlyError, match=FUTURE):
            await services.tags.attach(["x"], [])
    finally:
        await services.close()


def _guest() -> AccessPolicy:
    user = UserRecord(
        id=uuid.uuid4(),
        ip_address="10.0.0.2",
        role=Role.GUEST,
        created_at=datetime.now(UTC),
        login="guest",
    )
    return AccessPolicy(Identity(user=user, login="guest"))


async def test_only_admins_may_upgrade_an_older_library(db_url: str) -> None:
    database = await Database.open(db_url)
    try:
        # Who is who is settled at head (newer revisions may resolve it on the server).
        admin_identity = await resolve_identity(database)
        await migrate.run_command(database, "downgrade", "0002")
        head = migrate.script_directory().get_current_head()

        guest = SchemaService(database, _guest())
        status = await guest.state()
        assert status.needs_upgrade and not status.can_upgrade
        assert "Ask an admin" in status.message and head in status.message
        with pytest.raises(PermissionDeniedError, match="Only an admin"):
            await guest.upgrade_schema()
        assert (await migrate.schema_state(database)).current == "0002"

        admin = SchemaService(database, AccessPolicy(admin_identity))
        offered = await admin.state()
        assert offered.can_upgrade and head in offered.message
        upgraded = await admin.upgrade_schema()
        assert upgraded.up_to_date and not upgraded.message
    finally:
        await database.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_two_clients_never_migrate_at_once(empty_db_url: str) -> None:
    """Both upgrades wait for the advisory lock; once free they run one after the other
    (without the lock the second would fail creating tables the first just made)."""
    holder = await asyncpg.connect(dsn(empty_db_url))
    clients = [Database(empty_db_url), Database(empty_db_url)]
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", migrate.MIGRATION_LOCK_KEY)
        upgrades = [asyncio.create_task(migrate.upgrade_on_open(c)) for c in clients]
        await _until_waiting_for_the_lock(holder, waiters=2)
        # While the lock is held nobody has touched the schema.
        tables = await holder.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables == 0
        await holder.execute("SELECT pg_advisory_unlock($1)", migrate.MIGRATION_LOCK_KEY)
        states = await asyncio.wait_for(asyncio.gather(*upgrades), WAIT_S * 6)
        assert all(state.up_to_date for state in states)
        assert await holder.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await holder.close()
        for client in clients:
            await client.dispose()


async def _until_waiting_for_the_lock(holder: asyncpg.Connection, waiters: int) -> None:
    """Poll pg_locks (each look is a query, no sleep) until ``waiters`` backends queue."""

    async def _look() -> None:
        while True:
            found = await holder.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            if found >= waiters:
                return

    await asyncio.wait_for(_look(), WAIT_S)
