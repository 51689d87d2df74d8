"""Whatever way a page is read (walk, seek, row tests, walk then scan), the rows are the same.

``LibraryService.page`` lets SQLite pick its way in by counting (``search_plan``); these
tests page through every result both that way and the plain way (every condition free to
use its index, no planning) and demand the same rows in the same order, on both backends.
The thresholds are lowered so that 3,000 rows exercise every way.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlalchemy as sa

from filemeta_gui.db.models import SHORT_PATH_BYTES, File
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.query import And, Not, parse
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository, keyset, search_plan
from filemeta_gui.repositories.query_sql import search_condition
from filemeta_gui.repositories.search_plan import plan_page
from filemeta_gui.services.container import Services
from tests.repositories.factories import file_row
from tests.repositories.plan_support import (
    COMMON_TAG,
    RARE_TAG,
    RARE_TYPE,
    analyze,
    captured,
    load_library,
    plans_of,
)
from tests.support.backends import only_postgresql, only_sqlite

QUERIES = (
    "type:image", f"type:{RARE_TYPE}", "ext:jpg", f"tag:{COMMON_TAG}", f"tag:{RARE_TAG}",
    "zanzibar", "img", "vid_0001", "00", "q", "zz", "size:>50000", "size:<300",
    "modified:<1971", "path:/home/me/trip/1*", "img -zanzibar", "type:video zanzibar",
    f"tag:{COMMON_TAG} vid", "00 OR zanzibar", "-img", "path:*zz*", "path:*/1?/*",
    "-tag:nosuchtag", f"-tag:{RARE_TAG}", "trip img", "mp4", "jpg", f"-tag:{COMMON_TAG}",
    f"zanzibar -tag:{COMMON_TAG}", f"type:video -tag:{RARE_TAG}", "vid_0001 OR zanzibar",
    "trip mp4 OR vid_0002", f"q OR type:{RARE_TYPE} OR -img",
)  # fmt: skip
ORDERS = (
    (SortColumn.NAME, False), (SortColumn.SIZE, True), (SortColumn.HASH, False),
    (SortColumn.HASH, True), (SortColumn.FOLDER, True),
)  # fmt: skip
PAGE = 400


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_plan, "PROBE_CAP", 100)
    monkeypatch.setattr(search_plan, "UNCOVERED_SEEK", 300)
    monkeypatch.setattr(search_plan, "ROW_TEST_MIN", 500)
    monkeypatch.setattr(search_plan, "TAG_SEEK", 300)
    monkeypatch.setattr(search_plan, "COMMON_WORDS", 500)
    monkeypatch.setattr(keyset, "WALK_WINDOWS", (50, 400))
    monkeypatch.setattr(keyset, "SCAN_PROBE_CAP", 30)
    monkeypatch.setattr(keyset, "WORD_WINDOW", 100)
    monkeypatch.setattr(keyset, "WORD_WALK_MAX", 1_000)
    monkeypatch.setattr(search_plan, "PATH_WORD_WINDOW", 600)


async def _planned(services: Services, query: str, sort: SortColumn, desc: bool) -> list:
    seen, after = [], None
    for _ in range(20):
        request = PageRequest(sort=sort, descending=desc, limit=PAGE, after=after)
        page = await services.library.page(query, request)
        seen += [row.id for row in page.rows]
        if (after := page.next_after) is None:
            return seen
    pytest.fail("the cursor never reached the end")


async def _always(*_: object) -> bool:
    return True


async def _plain(services: Services, query: str, sort: SortColumn, desc: bool) -> list:
    where = search_condition(query, services.database.backend)
    seen, after = [], None
    async with services.database.session() as session:
        for _ in range(20):
            request = PageRequest(sort=sort, descending=desc, limit=PAGE, after=after)
            rows, after = await FileRepository(session).page(request, where=where)
            seen += [row.id for row in rows]
            if after is None:
                return seen
    pytest.fail("the cursor never reached the end")


@pytest.mark.usefixtures("small_thresholds")
@pytest.mark.parametrize("query", QUERIES)
async def test_planned_pages_are_the_plain_pages(services: Services, query: str) -> None:
    await load_library(services.database)
    for sort, desc in ORDERS:
        expected = await _plain(services, query, sort, desc)
        assert await _planned(services, query, sort, desc) == expected, (sort, desc)


async def test_an_or_reads_its_rare_alternatives_apart(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No index answers ``q OR zanzibar`` as one condition: zanzibar's ~430 files, under
    ``APART_BELOW``, are read through the word's index, apart from ``q``, and the first of
    both make the page. In more files, they are tested together on one walk."""
    await load_library(services.database)
    expected = await _plain(services, "q OR zanzibar", SortColumn.NAME, False)
    assert len(expected) > 300  # zanzibar's; no path holds a q
    seen, after = [], None
    with captured(services.database) as statements:
        # Pages of 100: each holds zanzibar's alone, and must still say that more follow.
        while len(seen) < len(expected) + 1:
            request = PageRequest(limit=100, after=after)
            page = await services.library.page("q OR zanzibar", request)
            seen += [row.id for row in page.rows]
            if (after := page.next_after) is None:
                break
    assert seen == expected
    asked = [str(params) for _, params in statements]
    assert any("zanzibar" in p for p in asked) and any("%q%" in p for p in asked), asked
    assert not [p for p in asked if "zanzibar" in p and "%q%" in p]
    monkeypatch.setattr(search_plan, "APART_BELOW", 400)
    with captured(services.database) as statements:
        await services.library.page("q OR zanzibar", PageRequest(limit=100))
    asked = [str(params) for _, params in statements]
    assert [p for p in asked if "zanzibar" in p and "%q%" in p], asked


@only_postgresql
async def test_postgresql_reads_the_tree_of_a_tag_inside_an_or_first(services: Services) -> None:
    """Written as its recursive tree inside an OR, a tag was a subplan PostgreSQL would not
    hash, searched for every file (at 1M files a page of ``tag:people OR qz`` took 8.3 s,
    counting ``tag:reef OR zanzibar`` 100 s): pages, counts and anchors read the tree's
    ids first, and find what the plain condition finds."""
    await load_library(services.database)
    query = f"q OR tag:{COMMON_TAG} OR -tag:{RARE_TAG}"
    expected = await _plain(services, query, SortColumn.NAME, False)
    with captured(services.database) as statements:
        assert await _planned(services, query, SortColumn.NAME, False) == expected
        assert await services.library.count(query) == len(expected)
        anchors = await services.library.anchors(query, SortColumn.NAME, False, 100)
    assert [file_id for _, file_id in anchors] == expected[99::100]
    # Each tagged set by ids (the negated tag stays a NOT EXISTS probe per row).
    reading = [sql for sql, _ in statements if re.search(r"FROM files\s", sql)]
    tree_as_set = "WHERE file_tags.tag_id IN (WITH RECURSIVE"
    assert reading and not [sql for sql in reading if tree_as_set in sql]


@only_sqlite  # PostgreSQL plans with its own statistics
@pytest.mark.usefixtures("small_thresholds")
async def test_sqlite_chooses_its_way_in_by_counting(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = services.database
    await load_library(database)

    async def plan(query: str, sort: SortColumn = SortColumn.NAME) -> tuple:
        node = parse(query)
        async with database.session() as session:
            chosen = await plan_page(session, node, sort, database.backend)
        items = node.items if isinstance(node, And) else (node,)
        opened = [str(item) for item in items if id(item) in (chosen.open_nodes or ())]
        inner = [item.item if isinstance(item, Not) else item for item in items]
        tested = [str(item) for item in inner if id(item) in chosen.row_tests]
        assert chosen.seek == (bool(opened) and sort is not SortColumn.SIZE)
        return opened, tested, chosen.bounded_walk

    # Few matches: through the filter's own index. Many: walk the sort index. (A type
    # filter alone in name order reads each type's run instead: see below.)
    assert await plan(f"type:{RARE_TYPE}", SortColumn.FOLDER) == ([f"type:{RARE_TYPE}"], [], False)
    assert await plan("type:image", SortColumn.FOLDER) == ([], [], False)
    assert await plan("vid_0001 type:image") == (["vid_0001"], [], False)
    # ... unless the filter is on the sort column: then it is a range of the walked index.
    assert await plan("size:>50", SortColumn.SIZE) == ([str(parse("size:>50"))], [], False)
    # ... however rare: elsewhere the way in, in its own order it is read in order.
    rare_size = [str(parse("size:>99000"))]
    assert await plan("size:>99000") == (rare_size, [], False)  # the way in: a seek
    assert await plan("size:>99000", SortColumn.SIZE) == (rare_size, [], False)  # a walk
    # A tag on many files is tested per row; on few, it is the way in.
    assert await plan(f"tag:{COMMON_TAG}") == ([], [f"tag:{COMMON_TAG}"], False)
    assert await plan(f"tag:{RARE_TAG}") == ([f"tag:{RARE_TAG}"], [], False)
    # Two filters match fewer files together: the rarer is the way in below
    # UNCOVERED_SEEK (here 300), and a big tag beside it is still tested per row.
    assert await plan(f"tag:{RARE_TAG} zanzibar") == ([f"tag:{RARE_TAG}"], [], False)
    assert await plan(f"vid_0001 tag:{COMMON_TAG}") == (["vid_0001"], [f"tag:{COMMON_TAG}"], False)
    # Both common (trip: six files in seven): the walk finds 201 at once.
    assert await plan(f"trip tag:{COMMON_TAG}") == ([], [f"tag:{COMMON_TAG}"], False)
    # Above UNCOVERED_SEEK, zanzibar's ~430 files are still the way in when the shares
    # say the walk would be longer (_rare_together), or under a higher bar.
    assert await plan(f"zanzibar tag:{COMMON_TAG}") == (["zanzibar"], [f"tag:{COMMON_TAG}"], False)
    monkeypatch.setattr(search_plan, "UNCOVERED_SEEK", 1000)
    assert await plan(f"zanzibar tag:{COMMON_TAG}") == (["zanzibar"], [f"tag:{COMMON_TAG}"], False)
    assert await plan("zanzibar") == ([], [], False)  # alone, PROBE_CAP is the bar
    # A negated tag is tested per row, whatever the way in: no set of its files is built.
    assert await plan(f"-tag:{COMMON_TAG}") == ([], [f"tag:{COMMON_TAG}"], False)
    assert await plan(f"vid_0001 -tag:{RARE_TAG}") == (["vid_0001"], [f"tag:{RARE_TAG}"], False)
    # Plain words, with nothing else in the query, are tested on the rows of a walk before
    # their set of FTS5 matches is built. In name and folder order the index holds the
    # path: every page does so, PATH_WALK_PER_MATCH entries per match, PATH_WORD_WINDOW
    # from COMMON_WORDS (here 500) matches, and so do words beside type and extension
    # filters, which that index holds too. Other orders: only pages after a cursor, of
    # plain words alone in COMMON_WORDS files or more (zanzibar: ~430).
    # Words in fewer than WHOLE_READ_MATCHES files are read whole past the walk, whose
    # window is then twice their matches whatever their count.
    monkeypatch.setattr(search_plan, "WHOLE_READ_MATCHES", 1_000)  # img: ~2k files
    queries = ("img", "trip img", "zanzibar", "img type:image", "img OR trip", "-img")

    async def windows(sort: SortColumn, continuing: bool) -> list:
        async with database.session() as session:
            return [
                (await plan_page(session, parse(q), sort, database.backend, continuing)).word_window
                for q in queries
            ]

    wide = (search_plan.PATH_WORD_WINDOW,) * 2
    for sort in (SortColumn.NAME, SortColumn.FOLDER):
        for continuing in (False, True):
            chosen = await windows(sort, continuing)
            assert chosen[:2] == [wide, wide] and chosen[3:] == [wide, None, None], chosen
            walked = chosen[2][0]  # zanzibar: twice its matches
            assert chosen[2] == (walked, walked) and 200 <= walked < 1_000, chosen
    async with database.session() as session:
        zanzibar = await plan_page(session, parse("zanzibar"), SortColumn.NAME, database.backend)
        monkeypatch.setattr(search_plan, "WHOLE_READ_MATCHES", 10_000)
        img = await plan_page(session, parse("img"), SortColumn.NAME, database.backend)
    assert zanzibar.whole_read and img.whole_read, (zanzibar, img)
    assert img.word_window == (4_008, 4_008), img  # 2,004 live files hold "img"
    rows_first = (keyset.WORD_WINDOW, keyset.WORD_WALK_MAX)
    assert await windows(SortColumn.SIZE, True) == [rows_first] * 2 + [None] * 4
    assert await windows(SortColumn.SIZE, False) == [None] * 6
    # Words of 1-2 characters have no index: a bounded walk, then a scan. So have path
    # globs with a leading wildcard and no three literal characters in a row.
    assert await plan("q") == ([], [], True)
    assert await plan("path:*zz*") == ([], [], True)
    assert (await plan("path:*trip/1*"))[2] is False  # "trip/1": through FTS


@only_sqlite
@pytest.mark.usefixtures("small_thresholds")
async def test_common_words_tested_on_rows_find_what_fts5_finds(services: Services) -> None:
    """The short walk of a common word tests LIKE on each row; paths where FTS5 folds a
    character into the word (here the long s and the Kelvin sign of "desk") must come back
    all the same, in the window and past it."""
    await load_library(services.database)
    desks = [f"/home/me/desk/{n}/DESK_{n:04d}.png" for n in range(600)]
    desks += [f"/home/me/de\u017f\u212a/{n}/DE\u017f\u212a_{n}.png" for n in range(5)]
    async with services.database.session() as session:
        await FileRepository(session).bulk_upsert([file_row(path) for path in desks])
    for window in (20, 100, 1_000):  # the folded names past the window, then inside it
        keyset.WORD_WINDOW = window  # the fixture's monkeypatch puts both back
        search_plan.PATH_WORD_WINDOW = window
        for sort, desc in ORDERS:
            expected = await _plain(services, "desk", sort, desc)
            assert len(expected) == 605
            assert await _planned(services, "desk", sort, desc) == expected, (window, sort)


@only_sqlite
@pytest.mark.usefixtures("small_thresholds")
async def test_words_walked_in_name_or_folder_order_read_the_index_alone(
    services: Services,
) -> None:
    """Migration 0007: the name order's index holds the path, and the folder order's is
    the path, so a word is tested on each entry of the walk with no table read."""
    database = services.database
    await load_library(database)
    expected = {
        SortColumn.NAME: "COVERING INDEX ix_files_sort_filename_path",
        SortColumn.FOLDER: "COVERING INDEX",
        SortColumn.SIZE: "INDEX ix_files_sort_file_size",  # reads the table, so walks less
    }
    for sort, index in expected.items():
        request = PageRequest(sort=sort, limit=PAGE)
        after = (await services.library.page("", request)).next_after  # SIZE: after a cursor
        request = PageRequest(sort=sort, limit=PAGE, after=after)
        plans = await plans_of(database, lambda r=request: services.library.page("trip", r))
        walks = [plan for plan in plans if "CO-ROUTINE walked" in plan]
        assert walks, plans
        assert all(f"files USING {index}" in plan for plan in walks), (sort, walks)
    assert "COVERING" not in "".join(walks)  # the last: size order


@only_sqlite
@pytest.mark.usefixtures("small_thresholds")
async def test_sqlite_reads_few_matches_of_a_short_word_by_rowid(services: Services) -> None:
    """Past the bounded walk, a short word's matches are counted first: under
    ``SCAN_PROBE_CAP`` they are looked up by rowid, over it the table is scanned. In name
    and folder order the sort index holds the path: the word is walked to the end."""
    await load_library(services.database)

    async def statements_of(query: str, sort: SortColumn) -> list[str]:
        with captured(services.database) as statements:
            await services.library.page(query, PageRequest(sort=sort, limit=PAGE))
        return [sql for sql, _ in statements if sql.lstrip().startswith("SELECT files.id")]

    assert "json_each" in (await statements_of("q", SortColumn.SIZE))[-1]  # in no file
    assert "json_each" not in (await statements_of("00", SortColumn.SIZE))[-1]  # in most
    for sort in keyset.PATH_CARRIED:
        (walked,) = await statements_of("q", sort)
        assert "json_each" not in walked and "LIMIT" in walked, walked
    # The hash order's two sections (unhashed files first) are bounded each, and the
    # matches are counted once for both: walked to their ends, they read every file.
    with captured(services.database) as statements:
        await services.library.page("q", PageRequest(sort=SortColumn.HASH, limit=PAGE))
    sqls = [sql for sql, _ in statements]
    assert sum("json_group_array" in sql for sql in sqls) == 1, sqls
    looked_up = [sql for sql in sqls if "SELECT files.id," in sql and "json_each" in sql]
    assert len(looked_up) == 2 and "hash_value IS NULL" in looked_up[0], sqls


@only_sqlite
@pytest.mark.usefixtures("small_thresholds")
async def test_sqlite_reads_the_rest_of_a_word_whole_past_its_walk(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In name order every ``VID_`` file sorts after the 2,000 ``IMG_`` ones, past the
    word's first window: in fewer than ``WHOLE_READ_MATCHES`` files, its matches past the
    walk are read through FTS5 and sorted; in more, the walk goes on. Either way, the
    plain pages, in both directions."""
    await load_library(services.database)

    async def sorted_reads(desc: bool) -> list[str]:
        """The first page's whole reads; every page checked against the plain ones."""
        expected = await _plain(services, "vid", SortColumn.NAME, desc)
        assert len(expected) > PAGE
        assert await _planned(services, "vid", SortColumn.NAME, desc) == expected
        request = PageRequest(sort=SortColumn.NAME, descending=desc, limit=PAGE)
        with captured(services.database) as statements:
            await services.library.page("vid", request)
        return [sql for sql, _ in statements if "ORDER BY +files.filename" in sql]

    (read_whole,) = await sorted_reads(False)
    assert "files_fts MATCH" in read_whole, read_whole
    assert not await sorted_reads(True)  # Z to A, the VID_ files come first
    monkeypatch.setattr(search_plan, "WHOLE_READ_MATCHES", 100)
    assert not await sorted_reads(False)


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_reads_a_few_sizes_or_dates_whole(services: Services) -> None:
    """Its planner expects the matches spread through the sort order; a size or date
    filter with few matches is read whole and sorted instead (a materialized CTE)."""
    database = services.database
    await load_library(database)

    async def seeks(query: str, sort: SortColumn = SortColumn.NAME) -> bool:
        async with database.session() as session:
            return (await plan_page(session, parse(query), sort, database.backend)).seek

    chosen = []
    for query in ("size:>50000", "size:<300", "modified:<1971", "size:>0"):
        few = await services.library.count(query) < search_plan.UNCOVERED_SEEK
        chosen.append(await seeks(query))
        assert chosen[-1] == few, query
    assert True in chosen, "some of these have few matches"
    assert await seeks("size:>0") is False  # every file: walking finds 201 at once
    assert not await seeks(f"type:{RARE_TYPE}")  # types: the planner's own way
    # In its own order such a filter is a range of the sort index, its matches in order.
    assert await seeks("size:<300") and not await seeks("size:<300", SortColumn.SIZE)
    assert not await seeks("modified:<1971", SortColumn.MODIFIED)


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_reads_a_tag_on_few_files_whole(services: Services) -> None:
    """A tag's tree is read first and handed to the planner as values; a tag on fewer
    than ``TAG_SEEK`` files (or on none, or unknown) is read whole and sorted."""
    database = services.database
    await load_library(database)

    async def plan(query: str) -> search_plan.PagePlan:
        async with database.session() as session:
            return await plan_page(session, parse(query), SortColumn.NAME, database.backend)

    rare, common, unknown = (
        await plan(f"tag:{RARE_TAG}"),
        await plan(f"tag:{COMMON_TAG} zanzibar"),
        await plan("tag:nosuchtag"),
    )
    assert rare.seek and not common.seek and unknown.seek
    assert [len(ids) for ids in rare.tag_ids.values()] == [1]
    assert [len(ids) for ids in unknown.tag_ids.values()] == [0]
    assert await _planned(services, "tag:nosuchtag", SortColumn.NAME, False) == []
    section = keyset.sections(File.filename, PageRequest())[0]
    sql = str(keyset.statement(section, [], 10, keys_first=True, seek=True))
    assert "WITH page_matches AS MATERIALIZED" in sql


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_walks_common_words_in_name_order_through_the_paths(
    services: Services,
) -> None:
    """Words in name order, with type and extension filters beside them, walk the
    indexes that carry the path (migrations 0008, 0009) where the planner would walk the
    plain name index; rare words, other orders and other filters do not."""
    database = services.database
    await load_library(database)

    async def walks(query: str, sort: SortColumn = SortColumn.NAME) -> bool:
        async with database.session() as session:
            plan = await plan_page(session, parse(query), sort, database.backend)
        return plan.short_path_walk

    assert await walks("img")  # two thirds of the files
    assert await walks("trip img")
    assert await walks("00") and await walks("mp")  # no trigram index knows them
    assert not await walks("vid_0001")  # one file: read through the trigram index
    assert not await walks("q") and not await walks("zz")  # in no file: scanned for
    assert await walks("img type:image") and await walks("img -zanzibar")
    assert not await walks(f"img type:{RARE_TYPE}")  # 12 files, found by their type
    assert not await walks("img", SortColumn.SIZE)
    assert not await walks("type:image") and not await walks("img size:>1")


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_word_walks_find_long_paths_and_folded_letters(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk merges the index of paths up to ``SHORT_PATH_BYTES`` with that of longer
    ones, and folds ASCII case under the "C" collation, with the full ``ILIKE`` for paths
    outside ASCII where a word holds an "i" or a "k" (U+0130 and the Kelvin sign lower-case
    to them). Pages read so equal the plain pages, both ways, through every cursor."""
    database = services.database
    await load_library(database)
    deep = "/home/me/" + "/".join(["deep_folder_name"] * 70)  # ~1,200 bytes
    assert len(deep.encode()) > SHORT_PATH_BYTES
    paths = [f"{deep}/{n}/IMG_{n:05d}.jpg" for n in range(0, 3000, 150)]
    paths += [f"{deep}/{n}/notes_{n}.txt" for n in range(30)]  # long, and no "img"
    paths += [f"/home/me/\u0130mg/{n}/photo_{n}.png" for n in range(5)]  # İ lower-cases to i
    paths += [f"/home/me/des\u212a/{n}/sheet_{n}.png" for n in range(5)]  # K: Kelvin sign
    paths += [f"/home/me/desk/{n}/desk_{n}.png" for n in range(40)]
    async with database.session() as session:
        await FileRepository(session).bulk_upsert([file_row(path) for path in paths])
    await analyze(database)
    # Walked however rare, whatever the planner would do (the fixture puts it back).
    monkeypatch.setattr(search_plan, "_planner_walks_names", _always)
    for query, found in (("img", 1925), ("desk", 45), ("sheet", 5), ("mg_0", 1000)):
        async with database.session() as session:
            assert (
                await plan_page(session, parse(query), SortColumn.NAME, database.backend)
            ).short_path_walk
        for desc in (False, True):
            expected = await _plain(services, query, SortColumn.NAME, desc)
            assert len(expected) >= found, query
            assert await _planned(services, query, SortColumn.NAME, desc) == expected, query


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_word_walks_read_the_name_indexes_that_carry_the_path(
    services: Services,
) -> None:
    """Each part of the walk can use its partial index: the short paths' index alone
    (an index-only scan), the long paths' index reading the table. A predicate the
    planner cannot prove from the statement would leave it a sequential scan."""
    database = services.database
    await load_library(database)
    request = PageRequest(sort=SortColumn.NAME, limit=PAGE)
    (plan,) = [
        plan
        for plan in await plans_of(database, lambda: services.library.page("img", request))
        if "ix_files_name" in plan
    ]
    assert '"Index Only Scan"' in plan and '"ix_files_name_short_paths"' in plan, plan
    assert '"ix_files_name_long_paths"' in plan and "Merge Append" in plan, plan
    assert '"Seq Scan"' not in plan, plan


async def _add_types(services: Services) -> None:
    """PNGs and GIFs among the JPEGs, and a type whose files are all in the bin."""
    rows = [
        file_row(f"/home/me/shots/{n}/shot_{n}.png", content_type="image/png") for n in range(90)
    ]
    rows += [file_row(f"/home/me/gifs/{n}/a_{n}.gif", content_type="image/gif") for n in range(40)]
    rows += [file_row(f"/home/me/old/{n}.bmp", content_type="image/bmp") for n in range(5)]
    async with services.database.session() as session:
        files = FileRepository(session)
        await files.bulk_upsert(rows)
        binned = [row.id for row in await files.by_content_type("image/bmp")]
        await files.soft_delete(binned)
    await analyze(services.database)


@pytest.mark.usefixtures("small_thresholds")
async def test_a_type_filter_in_name_order_merges_each_types_run(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0010: ``type:`` alone, in name order, reads each live type's files in
    name order from ``ix_files_type_name`` and merges them: the same pages as the plain
    way, both directions, through every cursor; a type only in the bin has no run."""
    database = services.database
    await load_library(database)
    await _add_types(services)

    async def runs(query: str) -> tuple[str, ...] | None:
        async with database.session() as session:
            plan = await plan_page(session, parse(query), SortColumn.NAME, database.backend)
        return plan.type_runs

    assert await runs("type:image") == ("image/gif", "image/jpeg", "image/png")
    assert await runs("type:image/bmp") == ("image/bmp",)  # named: asked, and finds none
    assert await runs("type:text") == ()
    assert await runs("type:image -zanzibar") is None and await runs("type:video vid") is None
    queries = ("type:image", "type:video", "type:image/png", "type:image/bmp", "type:text")
    for query in queries:
        for desc in (False, True):
            expected = await _plain(services, query, SortColumn.NAME, desc)
            assert await _planned(services, query, SortColumn.NAME, desc) == expected, query
    assert len(await _plain(services, "type:image", SortColumn.NAME, False)) > 2 * PAGE
    # More types than TYPE_RUNS_MAX: the name index is walked, as before.
    monkeypatch.setattr(search_plan, "TYPE_RUNS_MAX", 2)
    assert await runs("type:image") is None
    expected = await _plain(services, "type:image", SortColumn.NAME, False)
    assert await _planned(services, "type:image", SortColumn.NAME, False) == expected


@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_reads_type_runs_by_type_and_beside_sizes_and_dates(
    services: Services,
) -> None:
    """PostgreSQL also reads a type filter's runs in type order, and beside size and date
    filters, whose runs get a budget (``search_plan._type_runs``); SQLite keeps its own
    ways there. Either way the pages are the plain pages, both directions, through every
    cursor."""
    database = services.database
    await load_library(database)
    await _add_types(services)

    async def plan(query: str, sort: SortColumn) -> search_plan.PagePlan:
        async with database.session() as session:
            return await plan_page(session, parse(query), sort, database.backend)

    images = ("image/gif", "image/jpeg", "image/png")
    beside = await plan("size:>50000 type:image", SortColumn.NAME)
    by_type = await plan("type:image", SortColumn.TYPE)
    if database.is_sqlite:
        assert beside.type_runs is None and by_type.type_runs is None
    else:
        assert beside.type_runs == images and len(beside.implied) == 1
        assert beside.walk_budget_ms == search_plan.WALK_BUDGET_MS
        assert by_type.type_runs == images and by_type.walk_budget_ms is None
        dated = await plan("modified:<1971 type:video", SortColumn.TYPE)
        assert dated.type_runs == ("video/mp4",) and dated.walk_budget_ms is not None
        for other in ("type:image zanzibar", f"type:image tag:{COMMON_TAG}", "type:image ext:jpg"):
            assert (await plan(other, SortColumn.TYPE)).type_runs is None, other
        assert (await plan("size:>50000 type:image", SortColumn.SIZE)).type_runs is None
    queries = (
        "type:image", "type:video", "size:>50000 type:image", "modified:<1971 type:video",
        "size:<300 type:image/png", "type:image/bmp", "size:>99990 type:video",
    )  # fmt: skip
    for query in queries:
        for sort in (SortColumn.NAME, SortColumn.TYPE):
            for desc in (False, True):
                expected = await _plain(services, query, sort, desc)
                assert await _planned(services, query, sort, desc) == expected, (query, sort)


@only_postgresql
@pytest.mark.usefixtures("small_thresholds")
async def test_postgresql_walks_only_the_types_holding_a_common_word_by_type(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page of a word the planner expects in more than ``SEEK_MAX_MATCHES``
    files, in type order, walks only the runs of the types holding its matches, one after
    the other (``search_plan._types_holding``); pages after the first walk on as before.
    The pages are the plain pages, both directions, through every cursor."""
    database = services.database
    rows = await load_library(database)
    await _add_types(services)
    monkeypatch.setattr(search_plan, "SEEK_MAX_MATCHES", 100)

    async def planned(query: str, continuing: bool = False) -> search_plan.PagePlan:
        async with database.session() as session:
            node = parse(query)
            return await plan_page(session, node, SortColumn.TYPE, database.backend, continuing)

    live = [r for r in rows if "trip" in r["file_path"] and not r["deleted_at"]]
    holding = Counter(r["content_type"] for r in live)
    assert (await planned("trip")).type_runs == tuple(sorted(holding)) and len(holding) > 1
    assert (await planned("trip", continuing=True)).type_runs is None
    assert (await planned("vid_0001")).type_runs is None  # one file: the trigram index
    # All but the type holding the most are read whole, that one walked; pages agree.
    few = max(holding.values()) - 1
    monkeypatch.setattr(search_plan, "WHOLE_RUN_MATCHES", few)
    whole = {kind for kind, matches in holding.items() if matches <= few}
    assert (await planned("trip")).whole_runs == whole
    for query in ("trip", "img", "trip img", "zanzibar"):
        for desc in (False, True):
            expected = await _plain(services, query, SortColumn.TYPE, desc)
            assert await _planned(services, query, SortColumn.TYPE, desc) == expected, query
    # A run read whole after another, whichever: the same first page as the plain one.
    where = search_condition("trip", database.backend)
    kinds = tuple(sorted(holding))
    for desc in (False, True):
        expected = (await _plain(services, "trip", SortColumn.TYPE, desc))[:PAGE]
        for whole in [frozenset({kind}) for kind in kinds]:
            request = PageRequest(sort=SortColumn.TYPE, descending=desc, limit=PAGE)
            async with database.session() as session:
                repository = FileRepository(session)
                rows, _ = await repository.page(request, where, type_runs=kinds, whole_runs=whole)
            assert [row.id for row in rows] == expected, (whole, desc)


@pytest.mark.usefixtures("small_thresholds")
async def test_type_runs_read_the_type_name_index_and_merge(services: Services) -> None:
    """Each run is a range of ``ix_files_type_name`` (SQLite: covering), and the runs
    are merged, not sorted together."""
    database = services.database
    await load_library(database)
    await _add_types(services)
    first = PageRequest(sort=SortColumn.NAME, limit=PAGE)
    after = (await services.library.page("type:image", first)).next_after
    request = PageRequest(sort=SortColumn.NAME, limit=PAGE, after=after)
    plans = await plans_of(database, lambda: services.library.page("type:image", request))
    # The types are listed first (an index probe per type), then the page is read.
    (plan,) = [plan for plan in plans if "MERGE (UNION ALL)" in plan or "Merge Append" in plan]
    if database.is_sqlite:
        assert plan.count("USING COVERING INDEX ix_files_type_name (content_type=?") == 3, plan
    else:
        assert plan.count('"ix_files_type_name"') == 3 and "Merge Append" in plan, plan


@only_postgresql
async def test_postgresql_gives_its_walks_for_words_a_budget(services: Services) -> None:
    """Where the planner walks a sort index other than the name's for a word, the walk
    gets a budget (``search_plan._walk_budget``); a word read through the trigram index,
    a name-order page and a filter without words get none."""
    database = services.database
    await load_library(database)

    async def budget(query: str, sort: SortColumn, continuing: bool = False) -> int | None:
        async with database.session() as session:
            plan = await plan_page(session, parse(query), sort, database.backend, continuing)
        return plan.walk_budget_ms

    walked = await budget("trip", SortColumn.SIZE)  # six files in seven: found soon
    assert walked is not None and walked >= search_plan.WALK_BUDGET_MS
    walked_on = await budget("trip", SortColumn.SIZE, continuing=True)  # from a match
    assert walked_on is not None and walked_on >= 2 * search_plan.WALK_BUDGET_MS
    assert await budget("trip", SortColumn.TYPE) is not None
    assert await budget("vid_0001", SortColumn.SIZE) is None  # one file: the trigram index
    assert await budget("trip", SortColumn.NAME) is None
    assert await budget("type:image", SortColumn.SIZE) is None


def test_postgresql_budgets_a_walk_for_as_long_as_the_read_is_expected_to_take() -> None:
    """However many matches the planner expects: ``pdf`` (24.8k files at 1M) was expected
    in 50,002, and walked alone for 552 ms by folder, Z to A, past a cap at 50,000."""
    assert search_plan._walk_budget(None, False) is None  # the planner does not walk
    assert search_plan._walk_budget(1_000, False) == search_plan.WALK_BUDGET_MS
    assert search_plan._walk_budget(1_000, True) == 2 * search_plan.WALK_BUDGET_MS
    assert (
        search_plan._walk_budget(100_000, False) == 100_000 * search_plan.SEEK_US_PER_MATCH // 1000
    )


# Tested on every row a walk passes: 0.3 ms each, so a walk for 201 matches of a word in
# six files of seven takes ~70 ms, and reading all ~430 matches of ``zanzibar`` ~130 ms.
_SLOW = sa.text("pg_sleep(0.0003) IS NOT NULL")


async def _budgeted_page(
    services: Services,
    query: str,
    budget_ms: int | None,
    sort: SortColumn = SortColumn.SIZE,
    type_runs: tuple[str, ...] | None = None,
    raced: bool = False,
) -> tuple[list[object], list[str], str]:
    """Ids of the first page of ``query`` in ``sort`` order, last first, under
    ``budget_ms`` (``raced``: as ``LibraryService`` reads it), with every row tested
    slowly; the statements sent; and ``statement_timeout`` afterwards."""
    database = services.database
    where = sa.and_(search_condition(query, database.backend), _SLOW)
    request = PageRequest(sort=sort, descending=True, limit=50)
    racer = database.session if raced else None
    async with database.session() as session:
        with captured(database) as statements:
            rows, _ = await FileRepository(session, racer).page(
                request, where=where, type_runs=type_runs, walk_budget_ms=budget_ms
            )
        timeout = await session.scalar(sa.text("SHOW statement_timeout"))
    return [row.id for row in rows], [sql for sql, _ in statements], str(timeout)


@only_postgresql
async def test_a_walk_past_its_budget_reads_every_match_instead(services: Services) -> None:
    """The planner's way is stopped by ``statement_timeout`` inside a savepoint; the page
    is then read whole (a materialized CTE), the same rows in the same order, and the
    timeout is back to what it was."""
    await load_library(services.database)
    plain, plain_sql, before = await _budgeted_page(services, "zanzibar", None)
    assert not any("MATERIALIZED" in sql for sql in plain_sql)
    budgeted, sent, after = await _budgeted_page(services, "zanzibar", 5)
    assert budgeted == plain and len(plain) == 50
    assert "MATERIALIZED" not in sent[0] and "MATERIALIZED" in sent[-1], sent
    assert after == before


@only_postgresql
@pytest.mark.parametrize("sort", [SortColumn.NAME, SortColumn.TYPE])
async def test_type_runs_past_their_budget_read_every_match_instead(
    services: Services, sort: SortColumn
) -> None:
    """Runs beside a size or date filter get a budget too: past it, the same page is read
    whole, and the timeout is back to what it was. The condition need not name the types
    (``PagePlan.implied``): each run is of one, and the whole read asks for them."""
    await load_library(services.database)
    plain, _, before = await _budgeted_page(services, "type:image/jpeg", None, sort)
    runs = ("image/jpeg",)
    everything = "modified:<1971"  # every file of the library
    merged = sort is SortColumn.NAME  # by type, the runs are read one after the other
    kept, sent, _ = await _budgeted_page(services, everything, 60_000, sort, runs)
    assert kept == plain and len(sent) == 1 and "MATERIALIZED" not in sent[0], sent
    assert ("walk_0" in sent[0]) == merged, sent
    budgeted, sent, after = await _budgeted_page(services, everything, 5, sort, runs)
    assert budgeted == plain and len(plain) == 50
    assert "MATERIALIZED" not in sent[0] and "MATERIALIZED" in sent[-1], sent
    assert after == before


@only_postgresql
async def test_a_walk_within_its_budget_is_kept(services: Services) -> None:
    await load_library(services.database)
    plain, _, before = await _budgeted_page(services, "trip", None)
    kept, sent, after = await _budgeted_page(services, "trip", 60_000)
    assert kept == plain and len(sent) == 1 and "MATERIALIZED" not in sent[0]
    assert after == before


@only_postgresql
async def test_a_walk_under_a_budget_races_the_read_of_every_match(services: Services) -> None:
    """With sessions to race on, the read joins the walk after ``RACE_HEAD_START`` of the
    budget (10 ms; the walk takes ~100 ms here), and whichever answers first gives the
    page, the other cancelled: the plain page either way."""
    await load_library(services.database)
    plain, _, _ = await _budgeted_page(services, "zanzibar", None)
    raced, sent, _ = await _budgeted_page(services, "zanzibar", 100, raced=True)
    assert raced == plain and len(plain) == 50
    assert sum("MATERIALIZED" in sql for sql in sent) == 1, sent
    assert sum("pg_cancel_backend" in sql for sql in sent) >= 1, sent
    assert services.database.pool_status().checked_out == 0


@only_postgresql
async def test_a_failing_walk_is_not_taken_for_a_slow_one(services: Services) -> None:
    """Only a cancelled statement falls back to reading the matches whole."""
    database = services.database
    await load_library(database)
    failing = sa.text("file_size / (file_size - file_size) = 1")  # division by zero
    request = PageRequest(sort=SortColumn.SIZE, descending=True)
    async with database.session() as session:
        with captured(database) as statements, pytest.raises(sa.exc.DBAPIError) as raised:
            await FileRepository(session).page(request, where=failing, walk_budget_ms=60_000)
    assert "division by zero" in str(raised.value)
    assert len(statements) == 1


@only_sqlite  # PostgreSQL's planner weighs filters side by side itself
@pytest.mark.usefixtures("small_thresholds")
async def test_sqlite_reads_through_the_rarer_of_two_common_filters_that_rarely_meet(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two filters, each above UNCOVERED_SEEK, whose shares multiplied say a walk would pass
    many entries for 201 files: the rarer is the way in (``search_plan._rare_together``).
    Reading is made cheap here, so that 3,000 files show the choice a million make."""
    database = services.database
    await load_library(database)
    monkeypatch.setattr(search_plan, "SEEK_US_PER_ROW", 0.5)

    async def seeks_through(query: str) -> list[str]:
        node = parse(query)
        async with database.session() as session:
            plan = await plan_page(session, node, SortColumn.NAME, database.backend)
        assert isinstance(node, And)
        return [str(item) for item in node.items if plan.seek and id(item) in plan.open_nodes]

    # ~430 and 1,000 files, ~140 together: read through zanzibar.
    assert await seeks_through("zanzibar ext:mp4") == ["zanzibar"]
    # 2,000 and 2,000, mostly the same files: a walk finds 201 at once.
    assert await seeks_through("img ext:jpg") == []
    for sort, desc in ORDERS:
        expected = await _plain(services, "zanzibar ext:mp4", sort, desc)
        assert await _planned(services, "zanzibar ext:mp4", sort, desc) == expected, sort


def test_the_rarest_filter_must_be_counted_whole_to_be_the_way_in() -> None:
    """A filter counted only up to its cap counts as in that many files; but when the
    rarest reached its cap, every filter is common, and the page walks."""
    word, kind = parse("zanzibar ext:mp4").items  # type: ignore[attr-defined]
    choose = search_plan._rare_together
    exact = [(20_000, False, (word,)), (25_000, False, (kind,))]
    assert choose(exact, 1_000_000, search_plan.WALK_US) == (20_000, (word,))
    other_capped = [(20_000, False, (word,)), (25_000, True, (kind,))]
    assert choose(other_capped, 1_000_000, search_plan.WALK_US) == (20_000, (word,))
    rarest_capped = [(25_000, True, (word,)), (25_000, True, (kind,))]
    assert choose(rarest_capped, 1_000_000, search_plan.WALK_US) is None
    dense = [(20_000, False, (word,)), (900_000, False, (kind,))]  # 201 found in ~11k entries
    assert choose(dense, 1_000_000, search_plan.WALK_US) is None


def test_sqlite_lists_the_matches_first_for_anchors_no_index_narrows() -> None:
    listed = search_plan.anchors_listed_first
    assert listed(parse("q"), SortColumn.SIZE) and listed(parse("tag:x q"), SortColumn.NAME)
    # An OR of a short word and another is a union of their rows: a list already.
    assert not listed(parse("tag:x OR q"), SortColumn.NAME)
    assert listed(parse("size:>5"), SortColumn.NAME) and listed(
        parse("modified:2019"), SortColumn.SIZE
    )
    assert not listed(parse("size:>5"), SortColumn.SIZE)  # a range of the walked index
    assert not listed(parse("beach"), SortColumn.SIZE) and not listed(
        parse("tag:x"), SortColumn.NAME
    )


@only_sqlite
async def test_sqlite_anchors_of_a_short_word_number_its_listed_matches(services: Services) -> None:
    await load_library(services.database)
    expected = await _plain(services, "00 zanzibar", SortColumn.SIZE, True)
    assert len(expected) > 100
    with captured(services.database) as statements:
        anchors = await services.library.anchors("00 zanzibar", SortColumn.SIZE, True, 50)
    assert [file_id for _, file_id in anchors] == expected[49::50]
    assert any("json_group_array" in sql for sql, _ in statements), statements
