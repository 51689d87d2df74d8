"""Migrations: up, down and up again on both backends; models and migrations never drift;
SQLite backups before an upgrade; newer schemas refused."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from filemeta_gui.db import migrate
from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import Base
from filemeta_gui.db.schema_filter import include_object_for
from filemeta_gui.domain.errors import SchemaTooNewError

MODEL_TABLES = set(Base.metadata.tables)


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


async def test_empty_to_head_to_base_to_head(empty_db_url: str) -> None:
    database = await Database.open(empty_db_url, upgrade=False)
    try:
        assert await _tables(database) == set()
        head = migrate.script_directory().get_current_head()
        for _ in range(2):
            await migrate.run_command(database, "upgrade", "head")
            assert await _tables(database) >= MODEL_TABLES
            assert (await migrate.schema_state(database)).current == head
            await migrate.run_command(database, "downgrade", "base")
            # Nothing left behind, search index tables included.
            assert await _tables(database) == set()
            assert (await migrate.schema_state(database)).current is None
        await migrate.run_command(database, "upgrade", "head")
        assert (await migrate.schema_state(database)).up_to_date
    finally:
        await database.dispose()


def _backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bak"))


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_object": include_object_for(connection.dialect.name),
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_do_not_drift(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


@pytest.fixture
def extra_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A copy of the migrations plus one newer revision, as a future FileMeta would ship."""
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrate.script_directory().get_current_head()
    (scripts / "versions" / "9001_probe.py").write_text(
        f'"""probe table"""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "9001"\ndown_revision = "{head}"\n'
        "branch_labels = None\ndepends_on = None\n\n"
        "def upgrade():\n"
        '    op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))\n\n'
        "def downgrade():\n"
        '    op.drop_table("probe")\n'
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrate, "HEAD", "9001")  # as that FileMeta would declare it
    return "9001"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_upgrade_leaves_a_backup_beside_the_file(
    db_url: str, extra_revision: str
) -> None:
    old_head = migrate.script_directory().get_revision(extra_revision).down_revision
    database = await Database.open(db_url)  # at the old head: upgrades to the probe
    try:
        assert (await migrate.schema_state(database)).current == extra_revision
        assert "probe" in await _tables(database)
        path = database.sqlite_path
        assert path is not None
    finally:
        await database.dispose()
    (backup,) = _backups(path.parent)
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(old_head,)]
        tables = {n for (n,) in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "files" in tables and "probe" not in tables
    finally:
        copy.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_fresh_library_needs_no_backup(empty_db_url: str, tmp_path: Path) -> None:
    database = await Database.open(empty_db_url)
    await database.dispose()
    assert _backups(tmp_path) == []


async def test_newer_schema_is_refused_and_left_alone(db_url: str, tmp_path: Path) -> None:
    database = await Database.open(db_url)
    async with database.session() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    await database.dispose()
    with pytest.raises(SchemaTooNewError, match="newer FileMeta"):
        await Database.open(db_url)
    database = await Database.open(db_url, upgrade=False)
    try:
        assert (await migrate.schema_state(database)).current == "9999_future"
    finally:
        await database.dispose()
    assert _backups(tmp_path) == []


def test_head_is_alembics_head() -> None:
    """``migrate.HEAD`` must name the newest migration: update it with each new one."""
    assert migrate.script_directory().get_current_head() == migrate.HEAD


_OPEN_AND_LIST_ALEMBIC = """
import asyncio, sys
from filemeta_gui.services.container import Services

async def main():
    services = await Services.open(sys.argv[1])
    await services.close()

asyncio.run(main())
print(sorted(name for name in sys.modules if name.split(".")[0] == "alembic"))
"""


async def test_an_up_to_date_library_opens_without_importing_alembic(db_url: str) -> None:
    database = await Database.open(db_url)  # now at head
    await database.dispose()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _OPEN_AND_LIST_ALEMBIC, db_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILEMETA_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=migrate.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_alembic_command_line_upgrades_and_downgrades(empty_db_url: str) -> None:
    for args in (("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head")):
        done = _alembic(empty_db_url, *args)
        assert done.returncode == 0, done.stderr
    database = await Database.open(empty_db_url, upgrade=False)
    try:
        assert (await migrate.schema_state(database)).up_to_date
        assert await _tables(database) >= MODEL_TABLES
    finally:
        await database.dispose()
    offline = _alembic(empty_db_url, "upgrade", "head", "--sql")
    assert offline.returncode == 0, offline.stderr
    assert "CREATE TABLE files" in offline.stdout
