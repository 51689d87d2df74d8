"""Shared fixtures: a real database per backend, created fresh for every test.

* SQLite: a template library is migrated once per session and copied per test.
* PostgreSQL: a throw-away template database is created and migrated once per session
  on the server named by ``FILEMETA_TEST_PG_URL``; each test gets
  ``CREATE DATABASE ... TEMPLATE`` of it, dropped afterwards.

Without ``FILEMETA_TEST_PG_URL`` the PostgreSQL half is skipped, unless
``FILEMETA_REQUIRE_PG=1`` (set by ``.ci/run``), which turns that skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.support.pg import PgServer

PG_ENV = "FILEMETA_TEST_PG_URL"
REQUIRE_PG_ENV = "FILEMETA_REQUIRE_PG"
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test ever touches the real user's library, cache or settings."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("FILEMETA_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("FILEMETA_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("FILEMETA_DATABASE_URL", raising=False)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"{PG_ENV} is not set but {REQUIRE_PG_ENV}=1: PostgreSQL tests must run.")
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests skipped")
    server = PgServer(url)
    try:
        server.check()
    except Exception as error:  # pragma: no cover - depends on the machine
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(f"PostgreSQL at {url} is unreachable: {error}")
        pytest.skip(f"PostgreSQL at {url} is unreachable: {error}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """Name of a migrated template database (created once per session)."""
    name = pg_server.create_database()
    asyncio.run(_migrate(pg_server.url_for(name)))
    pg_server.mark_template(name)
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


async def _migrate(url: str) -> None:
    from filemeta_gui.db.engine import Database

    database = await Database.open(url)
    await database.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty (unmigrated) database on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    yield server.url_for(name)
    server.drop_database(name)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, migrated database on ``backend``, private to this test."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "library.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    template_name: str = request.getfixturevalue("pg_template")
    name = server.create_database(template=template_name)
    yield server.url_for(name)
    server.drop_database(name)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[object]:
    """An opened ``Database`` on a fresh migrated library (both backends)."""
    from filemeta_gui.db.engine import Database

    db = await Database.open(db_url)
    try:
        yield db
    finally:
        await db.dispose()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def new_login(backend: str, request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``new_login(prefix)``: a login name no other test (or run) uses.

    On PostgreSQL logins are cluster-wide roles: the ones a test makes are dropped after
    it, or at the end of the session if something still holds them.
    """
    server: PgServer | None = (
        request.getfixturevalue("pg_server") if backend == "postgresql" else None
    )
    made: list[str] = []

    def make(prefix: str = "user") -> str:
        made.append(unique_name(prefix))
        return made[-1]

    yield make
    if server is None:
        return
    for name in made:
        try:
            server.run(f'DROP ROLE IF EXISTS "{name}"')
        except Exception:  # still owns something: the session's drop_all retries
            server.roles.append(name)
