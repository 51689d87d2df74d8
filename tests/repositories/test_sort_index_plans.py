"""Every sort order, the common filters and the sidebar's counts read an index (migration 0005).

The plans are those of the statements the repositories really send (``plan_support``).
On a 1M-file library each of these, done by a table read and a sort instead, took from
0.2 to 2.7 s; here they fail as soon as a plan needs a sort or a table scan again.
"""

from __future__ import annotations

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import Backend, SortColumn
from filemeta_gui.domain.query import parse
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories import FileRepository, FolderRepository, TagRepository, search_plan
from filemeta_gui.repositories.files import sort_column_name
from filemeta_gui.repositories.query_sql import compile_query
from filemeta_gui.repositories.search_plan import plan_page
from tests.repositories.plan_support import load_library, plans_of
from tests.support.backends import only_sqlite

ORDERS = [(sort, desc) for sort in SortColumn for desc in (False, True)]


def _index_used(plan: str, database: Database, name: str) -> bool:
    if database.is_sqlite:
        return f"INDEX {name}" in plan
    return f'"Index Name": "{name}"' in plan


def _sort_index_used(plan: str, database: Database, sort: SortColumn) -> bool:
    names = [f"ix_files_sort_{sort_column_name(sort)}"]
    if sort is SortColumn.HASH:  # the unhashed files come first, in id order
        names.append("ix_files_unhashed")
    if sort is SortColumn.FOLDER:  # file_path is unique: its own index orders it as well
        names.append("sqlite_autoindex_files_" if database.is_sqlite else "uq_files_file_path")
    return any(_index_used(plan, database, name) for name in names)


def _sorted_in_memory(plan: str, database: Database) -> bool:
    if database.is_sqlite:
        return "TEMP B-TREE" in plan
    return '"Node Type": "Sort"' in plan or '"Node Type": "Incremental Sort"' in plan


@pytest.mark.parametrize("sort,descending", ORDERS, ids=[f"{s}-{d}" for s, d in ORDERS])
async def test_every_sort_order_pages_through_its_index(
    database: Database, sort: SortColumn, descending: bool
) -> None:
    await load_library(database)
    async with database.session() as session:
        files = FileRepository(session)
        request = PageRequest(sort=sort, descending=descending, limit=50)
        _, after = await files.page(request)
        assert after is not None
        deeper = PageRequest(sort=sort, descending=descending, limit=50, after=after)
        # The hash order's second page still lies among the unhashed files, its third not.
        for call in (lambda: files.page(request), lambda: files.page(deeper)):
            for plan in await plans_of(database, call):
                assert _sort_index_used(plan, database, sort), plan
                assert not _sorted_in_memory(plan, database), plan


async def _filtered_page_plans(
    database: Database, query: str, sort: SortColumn = SortColumn.NAME
) -> list[str]:
    async with database.session() as session:
        node = parse(query)
        plan = await plan_page(session, node, sort, database.backend)
        where = compile_query(
            node, database.backend, open_nodes=plan.open_nodes, row_tests=plan.row_tests
        )
        files = FileRepository(session)
        request = PageRequest(sort=sort, limit=50)
        return await plans_of(
            database,
            lambda: files.page(
                request,
                where=where,
                bounded_walk=plan.bounded_walk,
                seek=plan.seek,
                type_runs=plan.type_runs,
            ),
        )


# (A type filter alone in name order reads its own index: test_library_plans.py.)
@pytest.mark.parametrize("query", ["ext:jpg", "type:image ext:jpg", "type:video -ext:jpg"])
async def test_common_filters_are_checked_while_walking_the_sort_index(
    database: Database, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Common" is relative: with 3,000 rows, 2,000 JPEGs are many (two filters together
    # are the way in below UNCOVERED_SEEK matches).
    monkeypatch.setattr(search_plan, "PROBE_CAP", 100)
    monkeypatch.setattr(search_plan, "UNCOVERED_SEEK", 300)
    await load_library(database)
    plans = await _filtered_page_plans(database, query)
    assert plans
    for plan in plans:
        assert not _sorted_in_memory(plan, database), plan
        if database.is_sqlite:
            # The name index, walked; the type is read from it (no other index is used).
            assert "SCAN files USING INDEX ix_files_sort_filename" in plan, plan
        else:
            # Keys first: the type and extension are tested inside the index.
            assert '"Node Type": "Index Only Scan"' in plan, plan
            assert _index_used(plan, database, "ix_files_sort_filename"), plan


@pytest.mark.parametrize("query", ["ext:jpg", "type:video"])
async def test_filters_in_folder_order_are_checked_inside_the_sort_index(
    database: Database, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index on the path gives folder order too, and SQLite walked it, reading
    the table for every entry to test the filters. The keys come first now, so the sort
    index, which carries the filters' columns, covers the walk on both backends."""
    monkeypatch.setattr(search_plan, "PROBE_CAP", 100)
    monkeypatch.setattr(search_plan, "UNCOVERED_SEEK", 300)
    await load_library(database)
    (plan,) = await _filtered_page_plans(database, query, SortColumn.FOLDER)
    if database.is_sqlite:
        assert "SCAN files USING COVERING INDEX ix_files_sort_file_path" in plan, plan
    else:
        assert '"Node Type": "Index Only Scan"' in plan, plan
        assert _index_used(plan, database, "ix_files_sort_file_path"), plan


@only_sqlite  # PostgreSQL chooses by its statistics
async def test_a_rare_type_is_read_through_its_own_index_and_sorted(database: Database) -> None:
    await load_library(database)
    (plan,) = await _filtered_page_plans(database, "type:application/x-rare", SortColumn.SIZE)
    assert "SEARCH files USING " in plan and " (content_type=?)" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" in plan, plan  # a dozen rows to sort


async def test_sidebar_counts_and_duplicate_groups_read_indexes_only(database: Database) -> None:
    await load_library(database)
    async with database.session() as session:
        folders = await plans_of(database, FolderRepository(session).list_with_counts)
        tags = await plans_of(database, TagRepository(session).counts)
        files = FileRepository(session)
        groups = await plans_of(database, files.duplicate_group_count)
    if database.is_sqlite:
        assert any("COVERING INDEX ix_files_folder_id_live" in p for p in folders), folders
        # Tag links are counted in file_tags; of files, only those in the bin are read.
        lines = [line for p in tags for line in p.splitlines() if " files " in f"{line} "]
        assert lines and all("INDEX ix_files_in_bin" in line for line in lines), tags
        assert any("COVERING INDEX ix_files_size_hash" in p for p in groups), groups
        assert all("TEMP B-TREE FOR GROUP BY" not in p for p in groups), groups
    else:
        # (Duplicate groups: on 3,000 rows PostgreSQL rightly prefers a bitmap of another
        # index; at 1M it reads ix_files_size_hash alone, see benchmarks/bench_million.py.)
        assert any(_index_used(p, database, "ix_files_folder_id_live") for p in folders)
        assert any(_index_used(p, database, "ix_files_in_bin") for p in tags), tags
    assert groups


async def test_the_bin_does_not_defeat_the_sort_indexes(database: Database) -> None:
    """``live()`` is tested inside the sort index: its entries carry ``deleted_at``."""
    await load_library(database)
    async with database.session() as session:
        files = FileRepository(session)
        plans = await plans_of(database, lambda: files.page(PageRequest(limit=50)))
        everything = await plans_of(
            database, lambda: files.page(PageRequest(limit=50), include_deleted=True)
        )
    for plan in plans + everything:
        assert _index_used(plan, database, "ix_files_sort_filename"), plan
        assert not _sorted_in_memory(plan, database), plan
    assert Backend(database.backend)  # both backends ran
