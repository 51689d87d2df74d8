"""Query plans: trees from both backends; ANALYZE only for reads, and always rolled back."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import Tag
from filemeta_gui.db.plans import (
    PlanUnavailableError,
    explain,
    explain_slow_query,
    is_read_only,
    postgres_node,
    sqlite_tree,
)
from filemeta_gui.domain.monitoring import SlowQuery


def _placeholders(database: Database, count: int) -> list[str]:
    return ["?"] * count if database.is_sqlite else [f"${i}" for i in range(1, count + 1)]


async def _tag_count(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(select(func.count()).select_from(Tag))).scalar_one())


async def _add_tag(database: Database, name: str) -> None:
    async with database.session() as session:
        session.add(Tag(name=name))


async def test_a_join_is_explained_as_a_tree(database: Database) -> None:
    [name] = _placeholders(database, 1)
    statement = (
        "SELECT f.filename FROM files f JOIN file_tags ft ON ft.file_id = f.id "
        f"WHERE f.filename = {name}"
    )
    plan = await explain(database, statement, ("holiday.jpg",))

    nodes = plan.root.walk()
    assert len(nodes) >= 3 and plan.root.children
    assert any("files" in node.label for node in nodes)
    assert any("file_tags" in node.label for node in nodes)
    assert "files" in plan.render()
    if database.is_sqlite:
        assert not plan.analyzed and plan.root.label == "QUERY PLAN"
    else:
        assert plan.analyzed and plan.execution_ms is not None
        assert all(node.actual_rows is not None for node in nodes)
        assert any(key == "Shared Hit Blocks" for key, _ in plan.root.details)  # BUFFERS


async def test_writes_are_explained_without_running(database: Database) -> None:
    await _add_tag(database, "keep-me")
    plan = await explain(database, "DELETE FROM tags", ())
    assert not plan.analyzed
    assert any("tags" in node.label for node in plan.root.walk())
    if not database.is_sqlite:
        cte = "WITH gone AS (DELETE FROM tags RETURNING id) SELECT count(*) FROM gone"
        assert not (await explain(database, cte, ())).analyzed
    assert await _tag_count(database) == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_analyze_runs_inside_a_rolled_back_transaction(database: Database) -> None:
    async with database.session() as session:
        await session.execute(
            text(
                "CREATE FUNCTION add_ghost_tag() RETURNS int LANGUAGE sql AS $$ "
                "INSERT INTO tags (id, name, created_at) "
                "VALUES (gen_random_uuid(), 'ghost', now()) RETURNING 1 $$"
            )
        )
    plan = await explain(database, "SELECT add_ghost_tag()", ())
    assert plan.analyzed  # a SELECT: it really ran …
    assert await _tag_count(database) == 0  # … and was rolled back


async def test_a_statement_with_unknown_parameters_gets_its_generic_plan(
    database: Database,
) -> None:
    # As pg_stat_statements lists them: placeholders, no values. NULLs would fold the
    # filter away on PostgreSQL; the generic plan keeps it.
    [first, second] = _placeholders(database, 2)
    statement = f"SELECT id FROM tags WHERE name = {first} OR parent_id = {second}"
    plan = await explain(database, statement)
    assert not plan.analyzed
    assert any("tags" in node.label for node in plan.root.walk())
    if not database.is_sqlite:
        assert any("$1" in value for node in plan.root.walk() for _key, value in node.details)


async def test_an_entry_that_left_the_log_has_no_plan(database: Database) -> None:
    gone = SlowQuery(
        id=10**9,
        statement="SELECT 1",
        normalised="SELECT ?",
        parameters=(),
        duration_seconds=1.0,
        started_at=datetime.now().astimezone(),
    )
    with pytest.raises(PlanUnavailableError, match="left the log"):
        await explain_slow_query(database, gone)


def test_sqlite_rows_become_a_tree_by_parent() -> None:
    rows = [
        (2, 0, "SCAN f"),
        (5, 0, "SCALAR SUBQUERY 1"),
        (9, 5, "SEARCH t USING INDEX ix (a=?)"),
        (11, 9, "USE TEMP B-TREE"),
        (12, 77, "orphan"),
    ]
    root = sqlite_tree(rows)
    assert [child.label for child in root.children] == ["SCAN f", "SCALAR SUBQUERY 1", "orphan"]
    subquery = root.children[1]
    assert subquery.children[0].label == "SEARCH t USING INDEX ix (a=?)"
    assert subquery.children[0].children[0].label == "USE TEMP B-TREE"
    repeated = sqlite_tree([(1, 0, "a"), (1, 1, "b")])  # malformed ids must not loop
    assert [node.label for node in repeated.walk()] == ["QUERY PLAN", "a", "b"]


def test_postgres_json_nodes_total_their_loops() -> None:
    node = postgres_node(
        {
            "Node Type": "Nested Loop",
            "Total Cost": 10.5,
            "Plans": [
                {
                    "Node Type": "Index Scan",
                    "Index Name": "ix_files_hash_value",
                    "Relation Name": "files",
                    "Alias": "f",
                    "Actual Total Time": 0.5,
                    "Actual Loops": 4,
                    "Actual Rows": 2,
                    "Index Cond": "(hash_value = $1)",
                }
            ],
        }
    )
    [scan] = node.children
    assert scan.label == "Index Scan using ix_files_hash_value on files f"
    assert scan.actual_ms == pytest.approx(2.0) and scan.loops == 4
    assert ("Index Cond", "(hash_value = $1)") in scan.details
    assert node.total_cost == 10.5 and node.actual_ms is None


@pytest.mark.parametrize(
    ("statement", "read_only"),
    [
        ("SELECT 1", True),
        ("  /* panel */ (SELECT 1) UNION (SELECT 2)", True),
        ("with x as (select 1) select * from x", True),
        ("WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d", False),
        ("UPDATE t SET a = 1", False),
        ("INSERT INTO t SELECT 1", False),
        ("-- 0f1e2d3c: a tagged statement\nDELETE FROM t", False),
    ],
)
def test_only_reads_are_analyzed(statement: str, read_only: bool) -> None:
    assert is_read_only(statement) is read_only
