"""Keyset pages: every sort column, both directions, many rows sharing each sort value."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository
from filemeta_gui.repositories.files import sort_value
from tests.repositories.factories import add_files, at, digest, file_row

ROWS = 23  # not a multiple of the page size: the last page is short


def _rows() -> list[dict[str, Any]]:
    # Three values per column (lower-case ASCII, so every collation orders them alike),
    # spread so that each sort puts many rows on the same value; a third of the hashes
    # are NULL.
    rows = []
    for i in range(ROWS):
        k = "abc"[i % 3]
        rows.append(
            file_row(
                f"/p/{'xyz'[i % 3]}/{i:02}",
                filename=f"{k}.txt",
                file_size=(i % 3) * 10,
                content_type=f"type/{k}",
                mtime_ns=(i % 3) * 1_000,
                upload_time=at(i % 3),
                hash_value=None if i % 3 == 0 else digest(k),
            )
        )
    return rows


async def _walk(
    files: FileRepository, sort: SortColumn, descending: bool, limit: int, **kw: Any
) -> list[File]:
    seen: list[File] = []
    after = None
    for _ in range(ROWS + 2):  # a cursor that never ends fails the test instead of hanging
        rows, after = await files.page(
            PageRequest(sort=sort, descending=descending, limit=limit, after=after), **kw
        )
        assert len(rows) <= limit
        seen.extend(rows)
        if after is None:
            return seen
    pytest.fail("the keyset cursor never reached the end")


def _expected(rows: list[File], sort: SortColumn, descending: bool) -> list[uuid.UUID]:
    ordered = sorted(rows, key=lambda f: (sort_value(f, sort), f.id), reverse=descending)
    return [f.id for f in ordered]


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
async def test_pages_cover_every_row_once_in_order(database: Database, descending: bool) -> None:
    async with database.session() as session:
        created = await add_files(session, *_rows())
        files = FileRepository(session)
        for sort in SortColumn:
            for limit in (1, 4, ROWS, ROWS + 5):
                seen = await _walk(files, sort, descending, limit)
                assert [f.id for f in seen] == _expected(created, sort, descending), (sort, limit)


async def test_cursor_is_the_last_rows_key(database: Database) -> None:
    async with database.session() as session:
        await add_files(session, *_rows())
        files = FileRepository(session)
        rows, after = await files.page(PageRequest(sort=SortColumn.HASH, limit=3))
        # The first rows are the unhashed ones: NULL is paged through as ''.
        assert [f.hash_value for f in rows] == [None, None, None]
        assert after == ("", rows[-1].id)
        rows, after = await files.page(PageRequest(sort=SortColumn.INDEXED, limit=ROWS))
        assert after is None and len(rows) == ROWS


async def test_where_condition_and_the_bin(database: Database) -> None:
    async with database.session() as session:
        created = await add_files(session, *_rows())
        files = FileRepository(session)
        await files.soft_delete([created[0].id, created[1].id])
        only_a = File.filename == "a.txt"
        seen = await _walk(files, SortColumn.SIZE, False, 2, where=only_a)
        expected = [f for f in created if f.filename == "a.txt" and f.id != created[0].id]
        assert [f.id for f in seen] == _expected(expected, SortColumn.SIZE, False)
        everything = await _walk(files, SortColumn.NAME, True, 5, include_deleted=True)
        assert len(everything) == ROWS
        assert len(await _walk(files, SortColumn.NAME, True, 5)) == ROWS - 2


async def test_pages_stay_stable_while_rows_are_added_before_the_cursor(
    database: Database,
) -> None:
    async with database.session() as session:
        await add_files(session, *_rows())
        files = FileRepository(session)
        first, after = await files.page(PageRequest(sort=SortColumn.SIZE, limit=10))
        # A new row sorting before the cursor must not shift the next page.
        await add_files(session, file_row("/p/new", file_size=0))
        second, _ = await files.page(PageRequest(sort=SortColumn.SIZE, limit=10, after=after))
        assert not {f.id for f in first} & {f.id for f in second}
        assert all((f.file_size, f.id) > (first[-1].file_size, first[-1].id) for f in second)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("way", ["hops", "numbered", "listed"])
async def test_anchors_end_every_block_of_the_walk(
    database: Database, descending: bool, way: str
) -> None:
    # A condition (any search) numbers the matches; the whole library hops the index. On
    # SQLite, ``listed_first``, the matches are listed first and numbered alone.
    where = None if way == "hops" else File.file_size >= 0
    listed_first = way == "listed"
    async with database.session() as session:
        created = await add_files(session, *_rows())
        files = FileRepository(session)
        for sort in SortColumn:
            order = _expected(created, sort, descending)
            by_id = {f.id: f for f in created}
            for every in (1, 4, ROWS, ROWS + 5):
                anchors = await files.anchors(
                    sort, descending, every, where=where, listed_first=listed_first
                )
                # Rows every-1, 2*every-1, ... as (sort value, id): many share a value
                # and a third of the hashes are NULL (anchored as '').
                ends = order[every - 1 :: every]
                assert anchors == [(sort_value(by_id[i], sort), i) for i in ends], (sort, every)
                for block, anchor in enumerate(anchors, start=1):
                    rows, _ = await files.page(
                        PageRequest(sort=sort, descending=descending, limit=every, after=anchor)
                    )
                    start = block * every
                    assert [f.id for f in rows] == order[start : start + every], (sort, block)


async def test_anchors_follow_the_condition_and_skip_the_bin(database: Database) -> None:
    async with database.session() as session:
        created = await add_files(session, *_rows())
        files = FileRepository(session)
        await files.soft_delete([created[0].id, created[3].id])
        only_a = File.filename == "a.txt"
        live_a = [
            f
            for f in created
            if f.filename == "a.txt" and f.id not in {created[0].id, created[3].id}
        ]
        order = _expected(live_a, SortColumn.MODIFIED, False)
        anchors = await files.anchors(SortColumn.MODIFIED, False, 2, where=only_a)
        assert [file_id for _value, file_id in anchors] == order[1::2]
        everything = await files.anchors(SortColumn.NAME, False, 1, include_deleted=True)
        assert len(everything) == ROWS
        assert await files.anchors(SortColumn.NAME, False, 3, where=File.file_size < 0) == []
