"""SQLite statements make one trip to aiosqlite's thread (``db.sqlite_cursor``), and
behave as through SQLAlchemy's own cursor: rows, counts, ids, errors (as the unit of work
translates them), bulk writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File, Tag
from filemeta_gui.db.sqlite_cursor import OneTripCursor
from filemeta_gui.domain.errors import ConflictError, FileMetaError
from filemeta_gui.repositories import FileRepository
from tests.repositories.factories import file_row

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls queued to aiosqlite's thread, by name."""
    queued: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        queued.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield queued


async def test_a_statement_is_one_trip(database: Database, trips: list[str]) -> None:
    async with database.session() as session:
        await session.execute(text("SELECT 1"))  # the BEGIN, then this
        trips.clear()
        raw = await (await session.connection()).get_raw_connection()
        cursor_class = type(raw.dbapi_connection.cursor())  # made here, no trip
        rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
    assert cursor_class is OneTripCursor
    assert [tuple(row) for row in rows] == [(1,), (2,)]
    # SQLAlchemy's own adapter queues four: cursor, execute, fetchall, close.
    assert trips[:1] == ["_run"] and "_run" not in trips[1:]


async def test_rows_counts_and_ids_come_back(database: Database) -> None:
    async with database.session() as session:
        files = FileRepository(session)
        created = [await files.create(**file_row(f"/c/{n}", file_size=n)) for n in range(5)]
        result = await session.execute(update(File).where(File.file_size >= 3).values(version=7))
        assert result.rowcount == 2  # type: ignore[attr-defined]
        inserted = await session.execute(insert(Tag).values(name="trip"))
        assert inserted.inserted_primary_key is not None
        found = await session.execute(select(File.file_path).order_by(File.file_path))
        assert found.fetchone() == ("/c/0",)
        assert found.fetchmany(2) == [("/c/1",), ("/c/2",)]
        assert found.fetchall() == [("/c/3",), ("/c/4",)]
        empty = await session.execute(select(File.id).where(File.file_size > 99))
        assert empty.all() == []
    async with database.session() as session:
        sizes = await session.scalars(select(File.file_size).where(File.version == 7))
        assert sorted(sizes) == [3, 4]
        assert await session.scalar(select(func.count()).select_from(File)) == len(created)


async def test_bulk_writes_count_every_row(database: Database) -> None:
    rows = [file_row(f"/b/{n}") for n in range(2_500)]
    async with database.session() as session:
        ids = await FileRepository(session).bulk_upsert(rows)
    assert len(ids) == 2_500
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(File)) == 2_500


async def test_errors_surface_and_the_connection_stays_usable(database: Database) -> None:
    async with database.session() as session:
        await FileRepository(session).create(**file_row("/e/one"))
    with pytest.raises(FileMetaError, match="no such table"):
        async with database.session() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    with pytest.raises(ConflictError):
        async with database.session() as session:
            await FileRepository(session).create(**file_row("/e/one"))  # a second /e/one
    for _ in range(3):  # every connection of the pool still answers, nothing was lost
        async with database.session() as session:
            assert await session.scalar(select(func.count()).select_from(File)) == 1
