"""Stopping a scan part-way: cancel, task cancellation, lost connections, full disks.

Each case checks the two promises: what was committed stays (and is consistent), and the
next scan picks up from there and completes.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.errors import ConnectionLostError, DatabaseUnavailableError, FileMetaError
from filemeta_gui.domain.scan import ScanOptions, ScanPhase
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import FolderScanner
from tests.services.indexer.conftest import register, rows, run_scan, sha256, write

FILES = 400
BATCH = 50


@pytest.fixture
def many(tmp_path: Path) -> Path:
    root = tmp_path / "many"
    for index in range(FILES):
        write(root / f"d{index % 4}" / f"f{index:04d}.bin", os.urandom(100 + index))
    return root


async def count_rows(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(File)) or 0)


async def assert_complete(database: Database, root: Path) -> None:
    found = await rows(database)
    assert len(found) == FILES
    for path, row in found.items():
        assert row.deleted_at is None
        assert row.hash_value == sha256(path)


async def test_cancel_while_walking_then_rescan(database: Database, many: Path) -> None:
    folder_id = await register(database, many)
    scanner = FolderScanner(database, folder_id, ScanOptions(batch_size=BATCH))
    events = []
    async for event in scanner.progress():
        events.append(event)
        if event.phase is ScanPhase.WALKING and event.seen >= 2 * BATCH:
            scanner.cancel()
    assert events[-1].cancelled and events[-1].done
    committed = await count_rows(database)
    assert 2 * BATCH <= committed < FILES
    assert all(row.deleted_at is None for row in (await rows(database)).values())

    hashed: list[str] = []
    run = await run_scan(database, folder_id, ScanOptions(batch_size=BATCH),
                         hooks=ScanHooks(before_hash=hashed.append))  # fmt: skip

    assert run.last.new == FILES - committed and not run.last.cancelled
    assert len(hashed) == FILES  # none was hashed before the cancel: all are now
    await assert_complete(database, many)


async def test_cancel_while_hashing_then_rescan(database: Database, many: Path) -> None:
    folder_id = await register(database, many)
    scanner = FolderScanner(database, folder_id, ScanOptions(batch_size=BATCH))
    async for event in scanner.progress():
        if event.phase is ScanPhase.HASHING:
            scanner.cancel()
    hashed_before = sum(row.hash_value is not None for row in (await rows(database)).values())
    assert hashed_before < FILES

    hashed: list[str] = []
    await run_scan(database, folder_id, hooks=ScanHooks(before_hash=hashed.append))

    assert len(hashed) == FILES - hashed_before  # what was committed is not read again
    await assert_complete(database, many)


async def test_task_cancelled_inside_a_write_rolls_that_write_back(
    database: Database, many: Path
) -> None:
    folder_id = await register(database, many)
    reached = asyncio.Event()
    never = asyncio.Event()

    async def hang_in_second_write(_session: AsyncSession, number: int) -> None:
        if number == 2:
            reached.set()
            await never.wait()

    hooks = ScanHooks(in_write=hang_in_second_write)
    task = asyncio.create_task(run_scan(database, folder_id, ScanOptions(batch_size=BATCH), hooks))
    await reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await count_rows(database) == BATCH  # the first batch, and nothing of the second
    await run_scan(database, folder_id)
    await assert_complete(database, many)


async def test_closing_the_iterator_early_stops_everything(database: Database, many: Path) -> None:
    folder_id = await register(database, many)
    progress = FolderScanner(database, folder_id, ScanOptions(batch_size=BATCH)).progress()
    async for event in progress:
        if event.phase is ScanPhase.WALKING:
            break
    await progress.aclose()
    # The autouse fixture fails the test if a walker or hashing thread is still alive.
    await run_scan(database, folder_id)
    await assert_complete(database, many)


def _dsn(database: Database) -> str:
    return database.url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_connection_killed_inside_a_write(database: Database, many: Path) -> None:
    folder_id = await register(database, many)

    async def kill_second_write(session: AsyncSession, number: int) -> None:
        if number == 2:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            admin = await asyncpg.connect(_dsn(database))
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()

    with pytest.raises(ConnectionLostError):
        await run_scan(
            database,
            folder_id,
            ScanOptions(batch_size=BATCH),
            ScanHooks(in_write=kill_second_write),
        )

    assert await count_rows(database) == BATCH  # committed rows kept, the broken batch not
    await run_scan(database, folder_id)
    await assert_complete(database, many)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_connections_killed_between_batches_are_replaced(
    database: Database, many: Path
) -> None:
    folder_id = await register(database, many)
    scanner = FolderScanner(database, folder_id, ScanOptions(batch_size=BATCH))
    killed = 0
    async for event in scanner.progress():
        if event.phase is ScanPhase.WALKING and not killed:
            admin = await asyncpg.connect(_dsn(database))
            try:
                killed = len(await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ))  # fmt: skip
            finally:
                await admin.close()
    assert killed >= 1
    await assert_complete(database, many)


async def _fill_the_disk(session: AsyncSession, number: int) -> None:
    """From the second write on, the database cannot grow: what a full disk looks like."""
    if number != 2:
        return
    if session.get_bind().dialect.name == "sqlite":
        pages = (await session.execute(text("PRAGMA page_count"))).scalar_one()
        await session.execute(text(f"PRAGMA max_page_count = {int(pages)}"))
    else:
        # PostgreSQL reports a full disk as SQLSTATE 53100; raise exactly that.
        await session.execute(text(
            "DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' "
            "USING ERRCODE = 'disk_full'; END $$"
        ))  # fmt: skip


async def test_disk_full_stops_cleanly_and_keeps_what_was_written(
    database: Database, many: Path, backend: str
) -> None:
    folder_id = await register(database, many)

    with pytest.raises(FileMetaError) as raised:
        await run_scan(
            database, folder_id, ScanOptions(batch_size=BATCH), ScanHooks(in_write=_fill_the_disk)
        )

    assert isinstance(raised.value, DatabaseUnavailableError)
    assert "full" in str(raised.value)
    await database.engine.dispose()  # a fresh connection: the "disk" has room again
    assert await count_rows(database) == BATCH
    await run_scan(database, folder_id)
    await assert_complete(database, many)
