"""Counts and anchors read as wholes, each part through its own index: the same numbers
and the same rows as the plain statements, with the viewer's rights, on both backends.

* Queries that only exclude (``-tag:x``, ``-word``) are counted as all files less the
  excluded ones, and their anchors do not probe X file by file
  (``search_plan.excluded_through_index``, ``hashed_exclusion``).
* On SQLite, an OR holding a word of 1-2 characters is the union of its alternatives'
  rows (``query_sql.read_as_union``).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from filemeta_gui.db.models import File
from filemeta_gui.domain.enums import AccessType, Role, SortColumn
from filemeta_gui.domain.query import parse
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository, PermissionRepository, search_plan
from filemeta_gui.repositories.convert import user_record
from filemeta_gui.repositories.files import Cursor, live
from filemeta_gui.repositories.query_sql import read_as_union, search_condition
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.services.library import LibraryService
from tests.repositories.factories import add_user, file_row
from tests.repositories.plan_support import (
    COMMON_TAG,
    RARE_TAG,
    analyze,
    captured,
    load_library,
)
from tests.support.backends import only_postgresql

EXCLUSIONS = (
    f"-tag:{COMMON_TAG}",
    "-zanzibar",
    f"-tag:{RARE_TAG} -zanzibar",
    f"-(zanzibar OR tag:{COMMON_TAG})",
    "-img",
    f"-tag:{COMMON_TAG} -tag:{RARE_TAG}",
)
TAGS_ONLY = (f"-tag:{COMMON_TAG}", f"-tag:{COMMON_TAG} -tag:{RARE_TAG}")
UNIONS = (
    "q OR zanzibar",
    f"tag:{COMMON_TAG} OR q",
    f"00 OR tag:{RARE_TAG} OR zanzibar",
    f"trip (zz OR tag:{COMMON_TAG})",
    "-(q OR zanzibar)",
)
EVERY = 150


async def _plain(
    services: Services, query: str, sort: SortColumn, desc: bool, after: Cursor | None = None
) -> list[uuid.UUID]:
    """Ids of ``query`` in this order past ``after``, through the plain condition."""
    where = search_condition(query, services.database.backend)
    request = PageRequest(sort=sort, descending=desc, limit=10_000, after=after)
    async with services.database.session() as session:
        rows, _ = await FileRepository(session).page(request, where=where)
    return [row.id for row in rows]


async def _guest_library(services: Services, files: list[dict]) -> LibraryService:
    """A guest who may read every third file (some of them in the bin)."""
    async with services.database.session() as session:
        guest = await add_user(session, ip="10.0.0.7", role=Role.GUEST, login="guest_excl")
        granted = [row["id"] for row in files[::3]]
        await PermissionRepository(session).grant(guest.id, granted, AccessType.READ)
    return LibraryService(services.database, AccessPolicy(Identity(user=user_record(guest))))


def test_what_is_read_as_a_union_or_as_all_files_less_a_part() -> None:
    assert read_as_union(parse("qz OR zanzibar").items)  # type: ignore[union-attr]
    assert read_as_union(parse("tag:a OR qz OR beach").items)  # type: ignore[union-attr]
    assert not read_as_union(parse("qz OR ab").items)  # type: ignore[union-attr]
    assert not read_as_union(parse("beach OR zanzibar").items)  # type: ignore[union-attr]

    excluded = search_plan.excluded_through_index
    assert excluded(parse("-tag:a")) == parse("tag:a")
    assert excluded(parse("-tag:a -beach")) == parse("tag:a OR beach")
    assert excluded(parse("-(beach trip)")) == parse("beach trip")
    for query in ("beach -tag:a", "-ab", "-type:video", "-tag:a -ab", "-(beach OR ab)", "a"):
        assert excluded(parse(query)) is None, query


async def test_counts_are_those_of_the_plain_statement(services: Services) -> None:
    files = await load_library(services.database)
    guest = await _guest_library(services, files)
    for library in (services.library, guest):
        for query in EXCLUSIONS + UNIONS:
            # The plain statement: NOT X tested on every live file the viewer may see.
            plain = sa.select(sa.func.count()).select_from(File)
            plain = plain.where(live(), library.condition(query))
            async with services.database.session() as session:
                expected = await session.scalar(plain)
            with captured(services.database) as statements:
                assert await library.count(query) == expected, query
            (counted,) = [sql for sql, _ in statements if "count(*)" in sql]
            if query in EXCLUSIONS:
                assert counted.count("count(*)") == 2, counted  # all files, less X's
            elif services.database.is_sqlite:
                assert "UNION SELECT files.rowid" in counted, counted


@pytest.mark.parametrize(
    ("sort", "desc"),
    [
        (SortColumn.NAME, False),
        (SortColumn.SIZE, True),
        (SortColumn.HASH, False),
        (SortColumn.TYPE, True),
    ],
)
async def test_anchors_reach_every_block(services: Services, sort: SortColumn, desc: bool) -> None:
    await load_library(services.database)
    for query in EXCLUSIONS + UNIONS:
        expected = await _plain(services, query, sort, desc)
        with captured(services.database) as statements:
            anchors = await services.library.anchors(query, sort, desc, EVERY)
        assert len(anchors) == len(expected) // EVERY, query
        for block, anchor in enumerate(anchors, start=1):
            rows = await _plain(services, query, sort, desc, after=anchor)
            assert rows == expected[block * EVERY :], (query, block)
        sent = " ".join(sql for sql, _ in statements)
        if query in UNIONS:
            assert ("UNION SELECT files.rowid" in sent) == services.database.is_sqlite, sent
        elif not services.database.is_sqlite:
            assert "NOT IN (SELECT files.id" in sent, sent  # the excluded ids, hashed
        else:
            # The tagged files' rowids, gathered once: a tag is otherwise a set of ids.
            assert ("NOT IN (SELECT files.rowid" in sent) == (query in TAGS_ONLY), sent
            if sort is not SortColumn.TYPE:  # SQLite cannot hop through runs of equal types
                assert "row_number" not in sent and "OFFSET" in sent, sent  # a hop


@only_postgresql
async def test_postgresql_tests_against_the_excluded_ids_only_if_it_hashes_them(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With too little memory for the hash, PostgreSQL would search the set of ids once per
    file: the plain NOT is used instead, and the anchors are the same."""
    await load_library(services.database)
    # A hash of more than ~3,300 ids does not fit the least work_mem (64kB, times two).
    more = [file_row(f"/home/me/trip/more/{n}.txt", extension=".txt") for n in range(1_500)]
    async with services.database.session() as session:
        await session.execute(sa.insert(File), [{"id": uuid.uuid4(), **row} for row in more])
    await analyze(services.database)
    query = "-trip"  # excludes ~4,000 of the 4,500 files
    with captured(services.database) as statements:
        hashed = await services.library.anchors(query, SortColumn.NAME, False, EVERY)
    assert any("NOT IN (SELECT files.id" in sql for sql, _ in statements)
    monkeypatch.setattr(search_plan, "EXCLUSION_WORK_MEM", "64kB")
    with captured(services.database) as statements:
        plain = await services.library.anchors(query, SortColumn.NAME, False, EVERY)
    assert not any("NOT IN (SELECT files.id" in sql for sql, _ in statements)
    assert plain == hashed and len(plain) >= 2
