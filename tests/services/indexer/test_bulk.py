"""Big loads suspend the search index and always leave it complete and in place."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.db.search_index import (
    check_search_index,
    search_index_suspended,
    suspend_search_index,
)
from filemeta_gui.domain.errors import ConnectionLostError
from filemeta_gui.domain.scan import ScanOptions, ScanPhase
from filemeta_gui.services.indexer.bulk import (
    INDEX_BUILDERS,
    BulkLoad,
    drop_foreign_keys,
    drop_secondary_indexes,
    missing_foreign_keys,
    missing_secondary_indexes,
    repair_indexes,
    restore_foreign_keys,
)
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import FolderScanner
from tests.repositories.factories import add_files, file_row
from tests.services.indexer.conftest import register, rows, run_scan, write
from tests.support.backends import only_postgresql


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "bulk"
    for index in range(120):
        write(root / f"part{index % 3}" / f"needle-{index:03d}.txt", os.urandom(20 + index))
    return root


async def index_state(database: Database) -> bool:
    """True while the bulk load has the indexes dropped."""
    async with database.session() as session:
        missing = await missing_secondary_indexes(session) + await missing_foreign_keys(session)
        suspended = await search_index_suspended(session)
    return bool(missing) or suspended


async def assert_index_complete(database: Database) -> None:
    async with database.session() as session:
        assert not await search_index_suspended(session)
        assert await missing_secondary_indexes(session) == []
        assert await missing_foreign_keys(session) == []
        await check_search_index(session)  # SQLite: the FTS rows agree with ``files``


async def index_definitions(database: Database) -> dict[str, tuple[str, ...]]:
    """The indexes of ``files``, by name, with their columns, as the database has them."""

    def reflect(connection: sa.Connection) -> dict[str, tuple[str, ...]]:
        found = sa.inspect(connection).get_indexes("files")
        return {str(item["name"]): tuple(map(str, item["column_names"])) for item in found}

    async with database.engine.connect() as connection:
        return await connection.run_sync(reflect)


async def test_big_load_suspends_then_rebuilds_the_index(database: Database, folder: Path) -> None:
    migrated = await index_definitions(database)
    folder_id = await register(database, folder)
    states: list[bool] = []
    keys: list[list[str]] = []

    async def watch(session: AsyncSession, _number: int) -> None:
        states.append(bool(await missing_secondary_indexes(session)))
        keys.append(await missing_foreign_keys(session))

    run = await run_scan(
        database, folder_id, ScanOptions(batch_size=30), ScanHooks(in_write=watch),
        bulk_min_rows=40,
    )  # fmt: skip

    assert run.last.new == 120
    assert True in states  # later batches were written without the index
    # PostgreSQL loads without checking the foreign keys too (SQLite cannot drop them).
    if database.is_sqlite:
        assert all(missing == [] for missing in keys)
    else:
        assert ["fk_files_folder_id_folders", "fk_files_owner_id_users"] in keys
    await assert_index_complete(database)
    # The same indexes as the migrations made: none of the other backend's came along.
    assert await index_definitions(database) == migrated


async def test_small_scans_keep_the_index(database: Database, folder: Path) -> None:
    folder_id = await register(database, folder)
    states: list[bool] = []

    async def watch(session: AsyncSession, _number: int) -> None:
        states.append(await search_index_suspended(session))

    await run_scan(database, folder_id, hooks=ScanHooks(in_write=watch), bulk_min_rows=1_000)

    assert states and not any(states)
    await assert_index_complete(database)


async def test_cancelled_bulk_load_puts_the_index_back(database: Database, folder: Path) -> None:
    folder_id = await register(database, folder)
    scanner = FolderScanner(database, folder_id, ScanOptions(batch_size=20), bulk_min_rows=10)
    async for event in scanner.progress():
        if event.phase is ScanPhase.WALKING and event.seen >= 40:
            assert await index_state(database)  # suspended right now
            scanner.cancel()

    assert 40 <= len(await rows(database)) < 120
    await assert_index_complete(database)


async def test_a_scan_repairs_an_index_left_suspended(database: Database, folder: Path) -> None:
    folder_id = await register(database, folder)
    await run_scan(database, folder_id)
    async with database.session(write=True) as session:
        await suspend_search_index(session)  # what a scan killed with the process leaves
        await drop_secondary_indexes(session)
        if not database.is_sqlite:
            await drop_foreign_keys(session)
    assert await index_state(database)

    await run_scan(database, folder_id)

    await assert_index_complete(database)


@only_postgresql
async def test_foreign_keys_come_back_having_done_their_work(database: Database) -> None:
    """While a load runs without them, a folder or an owner may be removed by another
    client: the rows of the folder go and the owner is forgotten, as the keys would have
    done, before the keys are checked again."""
    gone_folder, gone_user = uuid.uuid4(), uuid.uuid4()
    async with database.session(write=True) as session:
        await drop_foreign_keys(session)
        await add_files(
            session,
            file_row("/gone/folder.txt", folder_id=gone_folder),
            file_row("/gone/owner.txt", owner_id=gone_user),
            file_row("/kept.txt"),
        )
    async with database.session(write=True) as session:
        assert len(await missing_foreign_keys(session)) == 2
        await restore_foreign_keys(session)
        assert await missing_foreign_keys(session) == []
        found = (await session.execute(sa.select(File.file_path, File.owner_id))).all()
    assert sorted(found) == [("/gone/owner.txt", None), ("/kept.txt", None)]


class CountingWrites:
    """The scan's write transactions, counting how many are open at once."""

    def __init__(self, database: Database, fail_at: int | None = None) -> None:
        self.database = database
        self.fail_at = fail_at
        self.opened = self.open = self.most_open = 0

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        if self.opened == self.fail_at:
            raise ConnectionLostError("The server went away (test).")
        async with self.database.session(write=True) as session:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            try:
                await asyncio.sleep(0)  # let the other builder open its transaction
                yield session
            finally:
                self.open -= 1


async def dropped_load(database: Database, writes: CountingWrites) -> BulkLoad:
    async with database.session(write=True) as session:
        await add_files(session, *(file_row(f"/load/f{n}.txt") for n in range(50)))
    load = BulkLoad(writes, library_rows=0, postgresql=not database.is_sqlite, min_rows=10)
    await load.before_inserts(50)
    assert await index_state(database)
    return load


@only_postgresql
async def test_postgresql_builds_the_indexes_on_two_connections(database: Database) -> None:
    writes = CountingWrites(database)
    load = await dropped_load(database, writes)

    await load.finish()

    assert writes.most_open == INDEX_BUILDERS == 2
    await assert_index_complete(database)
    async with database.session() as session:  # statistics were refreshed after the builds
        analyzed = await session.scalar(
            sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'files'")
        )
    assert analyzed is not None


@only_postgresql
async def test_a_failed_index_build_is_raised_as_itself_and_repaired(
    database: Database,
) -> None:
    writes = CountingWrites(database, fail_at=5)  # the drop, the keys, then builds
    load = await dropped_load(database, writes)

    with pytest.raises(ConnectionLostError):
        await load.finish()
    assert await index_state(database)  # some builds never ran

    await repair_indexes(CountingWrites(database))
    await assert_index_complete(database)
