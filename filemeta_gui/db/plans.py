"""Query plans as trees of plain ``PlanNode`` records.

PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` for read-only statements, which
executes them, so it runs inside a transaction that is always rolled back and under a
statement timeout; every other statement gets a plain ``EXPLAIN (FORMAT JSON)`` and is not
executed. SQLite: ``EXPLAIN QUERY PLAN`` rows linked into a tree by ``id``/``parent``.

These queries are the panel's own: they run ``unmonitored()``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from filemeta_gui.db.errors import translate_error
from filemeta_gui.db.query_context import unmonitored
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.monitoring import PlanNode, QueryPlan, SlowQuery

if TYPE_CHECKING:
    from filemeta_gui.db.engine import Database

DEFAULT_TIMEOUT_S = 30.0
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()+", re.S)
_WRITES = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b", re.I)
_SQLITE_PLACEHOLDER = re.compile(r"\?")
_PG_PLACEHOLDER = re.compile(r"\$(\d+)")
# PostgreSQL JSON keys shown as columns of the node rather than in its details.
_FIGURES = {"Plans", "Total Cost", "Plan Rows", "Actual Total Time", "Actual Rows", "Actual Loops"}


class PlanUnavailableError(FileMetaError):
    """The plan cannot be produced (the slow query left the log, or was too long to keep)."""


def is_read_only(statement: str) -> bool:
    """True for a plain SELECT (or a WITH query without data-modifying parts).

    Only these are run by ``EXPLAIN ANALYZE``; deciding wrongly in the safe direction
    just means a plan without actual timings.
    """
    head = _LEADING_NOISE.sub("", statement)[:6].upper()
    if head.startswith("SELECT"):
        return True
    return head.startswith("WITH") and not _WRITES.search(statement)


async def explain(
    database: Database,
    statement: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    *,
    analyze: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> QueryPlan:
    """The plan of ``statement``, written as the driver receives it (``$1``/``?`` style).

    Args:
        params: the statement's parameters. Without them (a statement from
            pg_stat_statements, say) PostgreSQL shows its generic plan, not executed, and
            SQLite plans with NULLs.
        analyze: on PostgreSQL, run ``EXPLAIN ANALYZE`` when the statement is read-only.
        timeout_s: statement timeout for the ANALYZE run (PostgreSQL).
    """
    try:
        with unmonitored():
            if database.is_sqlite:
                nulls = (None,) * len(_SQLITE_PLACEHOLDER.findall(statement))
                return await _explain_sqlite(
                    database, statement, nulls if params is None else params
                )
            if params is None:
                return await _explain_postgres_generic(database, statement)
            return await _explain_postgres(database, statement, params, analyze, timeout_s)
    except FileMetaError:
        raise
    except Exception as error:
        raise translate_error(error, database.name) from error


async def explain_slow_query(
    database: Database, entry: SlowQuery, *, analyze: bool = True
) -> QueryPlan:
    """The plan of a slow-query log entry, with the parameters it really ran with."""
    arguments = database.monitor.slow_query_arguments(entry.id)
    if arguments is None:
        reason = "was too long to keep" if not entry.explainable else "has left the log"
        raise PlanUnavailableError(f"No plan for slow query #{entry.id}: it {reason}.")
    statement, params = arguments
    return await explain(database, statement, params, analyze=analyze)


async def _explain_postgres(
    database: Database,
    statement: str,
    params: Sequence[Any] | Mapping[str, Any],
    analyze: bool,
    timeout_s: float,
) -> QueryPlan:
    analyzed = analyze and is_read_only(statement)
    options = "ANALYZE, BUFFERS, FORMAT JSON" if analyzed else "FORMAT JSON"
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            timeout_ms = max(int(timeout_s * 1000), 1)
            await connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
            result = await connection.exec_driver_sql(f"EXPLAIN ({options}) {statement}", params)
            raw = result.scalar_one()
        finally:
            # ANALYZE executed the statement: whatever it did is undone here.
            await transaction.rollback()
    return _postgres_plan(statement, raw, analyzed)


async def _explain_postgres_generic(database: Database, statement: str) -> QueryPlan:
    """The generic plan (the one for any parameter values), as ``PREPARE`` + ``EXECUTE``.

    PostgreSQL 15 has no ``EXPLAIN (GENERIC_PLAN)``; forcing the generic plan of a
    prepared statement gives the same and makes the NULL arguments irrelevant.
    """
    name = f"filemeta_plan_{uuid.uuid4().hex}"
    count = max((int(n) for n in _PG_PLACEHOLDER.findall(statement)), default=0)
    arguments = f"({', '.join(['NULL'] * count)})" if count else ""
    async with database.engine.connect() as connection:
        await connection.exec_driver_sql(f"PREPARE {name} AS {statement}")
        try:
            await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            explained = f"EXPLAIN (FORMAT JSON) EXECUTE {name}{arguments}"
            raw = (await connection.exec_driver_sql(explained)).scalar_one()
        finally:
            await connection.rollback()
            # Prepared statements outlive transactions: drop it before the pool reuses this.
            await connection.exec_driver_sql(f"DEALLOCATE {name}")
    return _postgres_plan(statement, raw, analyzed=False)


def _postgres_plan(statement: str, raw: Any, analyzed: bool) -> QueryPlan:
    document = json.loads(raw) if isinstance(raw, str | bytes) else raw
    top = document[0]
    return QueryPlan(
        backend="postgresql",
        statement=statement,
        analyzed=analyzed,
        root=postgres_node(top["Plan"]),
        planning_ms=top.get("Planning Time"),
        execution_ms=top.get("Execution Time"),
        raw=json.dumps(document, indent=2),
    )


def postgres_node(plan: Mapping[str, Any]) -> PlanNode:
    """One node of PostgreSQL's JSON plan, and everything below it."""
    label = str(plan.get("Node Type", "?"))
    if "Index Name" in plan:
        label += f" using {plan['Index Name']}"
    if "Relation Name" in plan:
        alias = plan.get("Alias")
        relation = plan["Relation Name"]
        label += f" on {relation}" + (f" {alias}" if alias and alias != relation else "")
    details = tuple(
        (key, _detail_text(value)) for key, value in plan.items() if key not in _FIGURES
    )
    loops = plan.get("Actual Loops")
    per_loop_ms = plan.get("Actual Total Time")
    return PlanNode(
        label=label,
        children=tuple(postgres_node(child) for child in plan.get("Plans", ())),
        details=details,
        total_cost=plan.get("Total Cost"),
        plan_rows=plan.get("Plan Rows"),
        # PostgreSQL reports time and rows per loop; the total is what the user compares.
        actual_ms=per_loop_ms * (loops or 1) if per_loop_ms is not None else None,
        actual_rows=plan.get("Actual Rows"),
        loops=loops,
    )


def _detail_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


async def _explain_sqlite(
    database: Database, statement: str, params: Sequence[Any] | Mapping[str, Any]
) -> QueryPlan:
    async with database.engine.connect() as connection:
        result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        found: list[Any] = list(result.all())  # rows of (id, parent, notused, detail)
    rows = [(int(row[0]), int(row[1]), str(row[3])) for row in found]
    return QueryPlan(
        backend="sqlite",
        statement=statement,
        analyzed=False,
        root=sqlite_tree(rows),
        raw="\n".join(f"{node_id}|{parent}|{detail}" for node_id, parent, detail in rows),
    )


def sqlite_tree(rows: Iterable[tuple[int, int, str]]) -> PlanNode:
    """Link ``EXPLAIN QUERY PLAN`` rows ``(id, parent, detail)`` into one tree.

    Rows come parents first; a row whose parent is unknown hangs from the root.
    """
    children: dict[int, list[tuple[int, str]]] = {}
    known = {0}
    for node_id, parent, detail in rows:
        children.setdefault(parent if parent in known else 0, []).append((node_id, detail))
        known.add(node_id)

    def build(node_id: int, label: str, above: frozenset[int]) -> PlanNode:
        # ``above`` guards against a malformed plan whose ids repeat (it would loop).
        below = [] if node_id in above else children.get(node_id, [])
        path = above | {node_id}
        return PlanNode(label=label, children=tuple(build(i, d, path) for i, d in below))

    return build(0, "QUERY PLAN", frozenset())
