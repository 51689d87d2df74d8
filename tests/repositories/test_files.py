"""FileRepository: lookups, literal search, bin, upserts, duplicates and tag names."""

from __future__ import annotations

import os
import random
import uuid

import pytest
from sqlalchemy import select

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import SHORT_PATH_BYTES, File
from filemeta_gui.domain.errors import ValidationError
from filemeta_gui.domain.paths import to_stored
from filemeta_gui.repositories import FileRepository, TagRepository
from filemeta_gui.repositories.convert import FILE_COLUMNS, file_record
from tests.repositories.factories import add_files, at, digest, file_row


async def test_lookups_by_path_hash_and_type(database: Database) -> None:
    h = digest("same")
    async with database.session() as session:
        await add_files(
            session,
            file_row("/a/x.png", content_type="image/png", hash_value=h),
            file_row("/b/x.png", content_type="image/png", hash_value=h),
            file_row("/c/y.txt", hash_value=digest("other")),
        )
        files = FileRepository(session)
        found = await files.get_by_path("/b/x.png")
        assert found is not None and found.hash_value == h
        assert await files.get_by_path("/b/none.png") is None
        assert [f.file_path for f in await files.by_hash(h)] == ["/a/x.png", "/b/x.png"]
        pngs = await files.by_content_type("image/png")
        assert [f.file_path for f in pngs] == ["/a/x.png", "/b/x.png"]
        assert len(await files.by_content_type("image/png", limit=1)) == 1


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("100%", ["/d/100% done.txt"]),
        ("%", ["/d/100% done.txt"]),
        ("a_b", ["/d/a_b.txt"]),
        ("_", ["/d/a_b.txt"]),
        ("back\\slash", ["/d/back\\slash.txt"]),
        ("\\", ["/d/back\\slash.txt"]),
        ("/d/A", ["/d/a_b.txt", "/d/axb.txt"]),
        ("slash/", []),
    ],
)
async def test_search_literal_takes_wildcards_literally(
    database: Database, term: str, expected: list[str]
) -> None:
    async with database.session() as session:
        await add_files(
            session,
            file_row("/d/100% done.txt"),
            file_row("/d/1000 done.txt"),
            file_row("/d/a_b.txt"),
            file_row("/d/axb.txt"),
            file_row("/d/back\\slash.txt"),
            file_row("/d/backxslash.txt"),
        )
        found = await FileRepository(session).search_literal(term)
        assert sorted(f.file_path for f in found) == expected


async def test_recent_and_largest_skip_the_bin(database: Database) -> None:
    async with database.session() as session:
        rows = await add_files(
            session,
            file_row("/r/old", upload_time=at(1), file_size=300),
            file_row("/r/new", upload_time=at(3), file_size=100),
            file_row("/r/mid", upload_time=at(2), file_size=200),
            file_row("/r/gone", upload_time=at(9), file_size=999),
        )
        files = FileRepository(session)
        assert await files.soft_delete([rows[3].id]) == 1
        assert [f.file_path for f in await files.recent(10)] == ["/r/new", "/r/mid", "/r/old"]
        assert [f.file_path for f in await files.largest(2)] == ["/r/old", "/r/mid"]


async def test_soft_delete_and_restore(database: Database) -> None:
    async with database.session() as session:
        rows = await add_files(session, file_row("/s/1"), file_row("/s/2"))
        ids = [r.id for r in rows]
    async with database.session() as session:
        files = FileRepository(session)
        assert await files.soft_delete([*ids, ids[0]]) == 2
        assert await files.soft_delete(ids) == 0  # already in the bin
        assert await files.count(File.deleted_at.is_(None)) == 0
    async with database.session() as session:
        files = FileRepository(session)
        binned = await files.get(ids[0])
        assert binned is not None and binned.deleted_at is not None
        assert await files.restore([ids[0]]) == 1
        assert await files.restore([ids[0]]) == 0
        assert [f.file_path for f in await files.recent()] == ["/s/1"]


async def test_bulk_upsert_inserts_then_updates_by_path(database: Database) -> None:
    rows = [file_row(f"/u/{i:04}", file_size=i) for i in range(2500)]
    async with database.session() as session:
        first = await FileRepository(session).bulk_upsert(rows)
        assert len(first) == 2500
        await FileRepository(session).soft_delete([first["/u/0001"]])
    changed = [file_row("/u/0001", file_size=11), file_row("/u/9999", file_size=5)]
    async with database.session() as session:
        files = FileRepository(session)
        second = await files.bulk_upsert(changed)
        assert second["/u/0001"] == first["/u/0001"]  # same row, updated in place
        assert second["/u/9999"] not in first.values()
        assert await files.count() == 2501
    async with database.session() as session:
        updated = await FileRepository(session).get(first["/u/0001"])
        assert updated is not None
        assert (updated.file_size, updated.version, updated.deleted_at) == (11, 2, None)


async def test_bulk_upsert_refuses_mixed_or_pathless_rows(database: Database) -> None:
    async with database.session() as session:
        files = FileRepository(session)
        with pytest.raises(ValidationError, match="same fields"):
            await files.bulk_upsert([file_row("/m/1"), {**file_row("/m/2"), "inode": 3}])
        with pytest.raises(ValidationError, match="file_path"):
            await files.bulk_upsert([{"filename": "x", "file_size": 1}])
        # A path twice in one call: the last one wins instead of a database error.
        ids = await files.bulk_upsert(
            [file_row("/m/3", file_size=1), file_row("/m/3", file_size=2)]
        )
        row = await files.get(ids["/m/3"])
        assert row is not None and row.file_size == 2
        assert await files.bulk_upsert([]) == {}


async def test_duplicate_groups(database: Database) -> None:
    big, small, empty = digest("big"), digest("small"), digest("")
    async with database.session() as session:
        rows = await add_files(
            session,
            # Stored out of path order: each group comes back in path order anyway.
            file_row("/g/big3", hash_value=big, file_size=1000),
            file_row("/g/big1", hash_value=big, file_size=1000),
            file_row("/g/big2", hash_value=big, file_size=1000),
            file_row("/g/small2", hash_value=small, file_size=10),
            file_row("/g/small1", hash_value=small, file_size=10),
            file_row("/g/unique", hash_value=digest("u"), file_size=10),
            file_row("/g/unhashed1", file_size=10),
            file_row("/g/unhashed2", file_size=10),
            file_row("/g/empty1", hash_value=empty, file_size=0),
            file_row("/g/empty2", hash_value=empty, file_size=0),
        )
        files = FileRepository(session)
        groups = await files.duplicate_groups()
        assert [(h, size, [f.file_path for f in g]) for h, size, g in groups] == [
            (big, 1000, ["/g/big1", "/g/big2", "/g/big3"]),
            (small, 10, ["/g/small1", "/g/small2"]),
        ]
        assert [h for h, _, _ in await files.duplicate_groups(min_size=11)] == [big]
        assert [h for h, _, _ in await files.duplicate_groups(include_empty=True)][-1] == empty
        await files.soft_delete([rows[3].id])  # a group of one copy is no group
        assert [h for h, _, _ in await files.duplicate_groups()] == [big]


async def test_tag_names(database: Database) -> None:
    async with database.session() as session:
        a, b, c = await add_files(session, file_row("/t/a"), file_row("/t/b"), file_row("/t/c"))
        tags = TagRepository(session)
        zeta, alpha = await tags.get_or_create(["zeta", "alpha"])
        await tags.attach([zeta.id, alpha.id], [a.id])
        await tags.attach([zeta.id], [b.id])
        names = await FileRepository(session).tag_names([a.id, b.id, c.id])
        assert names == {a.id: ("alpha", "zeta"), b.id: ("zeta",), c.id: ()}

        # One bind parameter holds every id: more ids than a statement may have parameters
        # (SQLite 32766, asyncpg 32767), unknown ones answered with no tags.
        unknown = [uuid.uuid4() for _ in range(40_000)]
        names = await FileRepository(session).tag_names([*unknown, b.id])
        assert len(names) == 40_001 and names[b.id] == ("zeta",) and names[unknown[0]] == ()


async def test_non_utf8_names_keep_their_bytes(database: Database) -> None:
    os_path = os.fsdecode(b"/n/caf\xe9.txt")  # Latin-1 bytes: not valid UTF-8
    text, raw = to_stored(os_path)
    async with database.session() as session:
        (row,) = await add_files(session, file_row(text, raw_path=raw))
    async with database.session() as session:
        loaded = await FileRepository(session).get_by_path("/n/caf\\xe9.txt")
        assert loaded is not None
        record = file_record(loaded, tags=("x",))
        assert record.file_path == "/n/caf\\xe9.txt"
        assert record.os_path == os_path and os.fsencode(record.os_path) == b"/n/caf\xe9.txt"
        assert record.tags == ("x",) and record.id == row.id


async def test_a_page_row_makes_the_same_record_as_the_file_object(database: Database) -> None:
    """Pages read plain rows by position (``FILE_COLUMNS``); every field must land where
    reading the ``File`` by name puts it, non-UTF-8 bytes and the bin included."""
    os_path = os.fsdecode(b"/n/r\xe9sum\xe9.pdf")
    text, raw = to_stored(os_path)
    values = {
        "raw_path": raw, "file_size": 4242, "content_type": "application/pdf",
        "extension": "pdf", "mtime_ns": 1_700_000_000_123_456_789, "hash_value": digest("r"),
        "thumbnail_path": "/cache/ab.webp", "inode": 77, "device": 3, "deleted_at": at(5),
    }  # fmt: skip
    async with database.session() as session:
        await add_files(session, file_row(text, **values))
    async with database.session() as session:
        (as_object,) = (await session.scalars(select(File))).all()
        (as_row,) = (await session.execute(select(*FILE_COLUMNS))).all()
    assert file_record(as_row, ("t",)) == file_record(as_object, ("t",))
    record = file_record(as_row)
    assert (record.os_path, record.file_size, record.mtime_ns) == (
        os_path,
        4242,
        values["mtime_ns"],
    )
    assert (record.thumbnail_path, record.deleted_at) == ("/cache/ab.webp", at(5))


async def test_the_longest_row_fits_every_index(database: Database) -> None:
    """PostgreSQL refuses a B-tree entry over ~2.7 kB: the longest name, type and
    extension beside the longest path the name index carries must fit (migration 0009).
    The characters are random and 4 bytes each, so compression cannot shrink them."""
    rng = random.Random(7)

    def text(characters: int) -> str:
        return "".join(chr(rng.randrange(0x20000, 0x2A6DF)) for _ in range(characters))

    path = "/" + text((SHORT_PATH_BYTES - 1) // 4)
    assert len(path.encode()) <= SHORT_PATH_BYTES
    row = file_row(path, filename=text(255), content_type=text(100), extension=text(32))
    async with database.session() as session:
        await add_files(session, row)
    async with database.session() as session:
        found = await FileRepository(session).get_by_path(path)
    assert found is not None and found.content_type == row["content_type"]
