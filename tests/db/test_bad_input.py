"""Bad input: each case raises exactly one domain error class, with a plain one-line message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    FileMetaError,
    SchemaTooNewError,
)
from tests.support.fake_pg import WrongPasswordServer
from tests.support.pg import PgServer


async def _refused(url: str, expected: type[FileMetaError], match: str) -> FileMetaError:
    """Open ``url``; it must fail with exactly ``expected`` and a message fit for a person."""
    with pytest.raises(FileMetaError) as caught:
        database = await Database.open(url)
        await database.dispose()  # only reached when the test is about to fail
    error = caught.value
    assert type(error) is expected, f"{type(error).__name__}: {error}"
    message = str(error)
    assert "\n" not in message and message.strip() == message and message[0].isupper()
    assert "sqlalchemy" not in message.lower() and "Traceback" not in message
    assert match.lower() in message.lower(), message
    return error


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("library.sqlite3", "is not a database URL"),
        ("postgresql://me@localhost:port/db", "malformed"),
        ("postgresql://me@localhost:5432", "names no database"),
        ("sqlite://", "needs a file"),
    ],
)
async def test_malformed_url(url: str, match: str) -> None:
    await _refused(url, ConfigurationError, match)


@pytest.mark.parametrize("url", ["mysql://me@localhost/db", "postgresql+psycopg2://me@h/db"])
async def test_unknown_driver(url: str) -> None:
    await _refused(url, ConfigurationError, "Unknown database driver")


async def test_unreachable_host() -> None:
    # Port 1 on the loopback: nothing listens there, the refusal is immediate.
    await _refused(
        "postgresql://postgres@127.0.0.1:1/test", DatabaseUnavailableError, "unreachable"
    )


@pytest.fixture
def login_role(pg_server: PgServer) -> Iterator[str]:
    """A throw-away role that logs in with the password 'right'."""
    name = f"filemeta_role_{uuid.uuid4().hex[:10]}"
    pg_server.run(f"CREATE ROLE \"{name}\" WITH LOGIN PASSWORD 'right'")
    pg_server.roles.append(name)
    yield name
    pg_server.run(f'DROP ROLE IF EXISTS "{name}"')
    pg_server.roles.remove(name)


async def test_wrong_credentials(pg_server: PgServer, login_role: str) -> None:
    database_name = pg_server.url.database or "postgres"
    url = pg_server.url_for(database_name, user=login_role, password="wrong")
    try:
        database = await Database.open(url, upgrade=False)
    except DatabaseUnavailableError:
        await _refused(url, DatabaseUnavailableError, "log in")
        return
    await database.dispose()
    # Here pg_hba trusts 127.0.0.1, so PostgreSQL never asked for the password and the
    # wrong one was accepted (test_wrong_password_is_named asks a server that does). A
    # role that does not exist is refused (SQLSTATE 28000) through the same code path.
    missing = pg_server.url_for(database_name, user=f"{login_role}_missing", password="wrong")
    await _refused(missing, DatabaseUnavailableError, "log in")


async def test_wrong_password_is_named() -> None:
    # The test server never asks for a password (see above): this one asks and refuses it.
    async with WrongPasswordServer() as server:
        url = f"postgresql://alice:not-her-password@127.0.0.1:{server.port}/photos"
        error = await _refused(url, DatabaseUnavailableError, "wrong user name or password")
    assert server.passwords and set(server.passwords) == {"not-her-password"}, "never asked"
    message = str(error)
    assert message.startswith("Could not log in to the database 'photos' on 127.0.0.1")
    assert 'password authentication failed for user "alice"' in message
    assert "not-her-password" not in message, "a password is never shown"


async def test_missing_postgresql_database(pg_server: PgServer) -> None:
    url = pg_server.url_for(f"filemeta_missing_{uuid.uuid4().hex[:8]}")
    await _refused(url, DatabaseUnavailableError, "does not exist")


async def test_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'library.sqlite3'}"
    await _refused(url, DatabaseUnavailableError, "does not exist")


@pytest.mark.parametrize("folder", ["/proc/sys", "/proc"])
async def test_sqlite_file_in_a_read_only_folder(folder: str) -> None:
    # Tests run as root, for whom chmod stops nothing: procfs refuses new files to anyone.
    # /proc/sys says it is read-only when asked (access()); /proc says it is writable and
    # only refuses when a file is really created.
    url = f"sqlite:///{folder}/library.sqlite3"
    await _refused(url, DatabaseUnavailableError, f"the folder {folder} is read-only")


async def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    await asyncio.to_thread(path.write_text, "these are my notes, not a library\n" * 200)
    await _refused(f"sqlite:///{path}", DatabaseUnavailableError, "is not a SQLite database")


async def test_newer_schema(db_url: str) -> None:
    database = await Database.open(db_url)
    async with database.session() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = 'f00d_newer'"))
    await database.dispose()
    error = await _refused(db_url, SchemaTooNewError, "newer FileMeta")
    assert "f00d_newer" in str(error)
