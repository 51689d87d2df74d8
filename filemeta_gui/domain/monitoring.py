"""Frozen snapshots of what the database is doing, handed to the panel, the CLI and metrics.

They are produced by ``db.monitoring`` (query and pool figures), ``db.server_stats`` (what
the server itself reports) and ``db.plans`` (query plans). Plain values only: the UI can
keep, compare and diff them without touching the database layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HistogramSnapshot:
    """Counts per fixed bucket; ``counts[i]`` holds values ``<= bounds[i]`` (and above the
    previous bound), the last entry of ``counts`` is the ``+Inf`` bucket."""

    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    total: float
    """Sum of all observed values (seconds)."""

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        n = self.count
        return self.total / n if n else None

    def cumulative(self) -> tuple[int, ...]:
        """Running totals, as Prometheus' ``le`` buckets want them."""
        running, out = 0, []
        for value in self.counts:
            running += value
            out.append(running)
        return tuple(out)

    def since(self, older: HistogramSnapshot) -> HistogramSnapshot:
        """What was observed between ``older`` and this snapshot (for rates and windows)."""
        if older.bounds != self.bounds:
            raise ValueError("histograms with different buckets cannot be subtracted")
        counts = tuple(max(a - b, 0) for a, b in zip(self.counts, older.counts, strict=True))
        return HistogramSnapshot(self.bounds, counts, max(self.total - older.total, 0.0))

    def quantile(self, q: float) -> float | None:
        """Estimate the ``q`` quantile (0..1) by linear interpolation inside its bucket.

        Values in the ``+Inf`` bucket are reported as the last finite bound; None when
        nothing was observed.
        """
        n = self.count
        if n == 0:
            return None
        rank = min(max(q, 0.0), 1.0) * n
        seen = 0
        for index, in_bucket in enumerate(self.counts):
            if in_bucket and seen + in_bucket >= rank:
                if index >= len(self.bounds):
                    return self.bounds[-1]
                lower = self.bounds[index - 1] if index else 0.0
                upper = self.bounds[index]
                return lower + (upper - lower) * (rank - seen) / in_bucket
            seen += in_bucket
        return self.bounds[-1]


@dataclass(frozen=True, slots=True)
class StatementStats:
    """Figures for one normalised statement (literals and parameters shown as ``?``)."""

    statement: str
    calls: int
    errors: int
    total_seconds: float
    max_seconds: float
    last_operation: str | None = None

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.calls if self.calls else 0.0


@dataclass(frozen=True, slots=True)
class SlowQuery:
    """One entry of the slow-query log. Parameter *values* are never in it, only types."""

    id: int
    """Monotonic number; hand it back to ``db.plans.explain_slow_query``."""
    statement: str
    """The SQL as the driver received it (placeholders, not values)."""
    normalised: str
    parameters: tuple[str, ...]
    """Type names of the parameters (``"str"``, ``"int"``, ``"name: str"`` for named ones)."""
    duration_seconds: float
    started_at: datetime
    operation: str | None = None
    """The service operation that issued it (``monitoring.operation("library.search")``)."""
    batch_size: int = 1
    """Rows in an ``executemany``; ``parameters`` then describes the first row."""
    error: str | None = None
    """Exception type name when the query failed."""
    explainable: bool = True
    """False when the statement was too long to keep for ``EXPLAIN``."""


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """The connection pool now, plus counters since the monitor was attached."""

    size: int
    max_overflow: int
    checked_out: int
    idle: int
    overflow: int
    """Connections open beyond ``size`` right now."""
    waiting: int
    """Callers inside a pool checkout that has not returned yet."""
    checkouts: int = 0
    checkins: int = 0
    connects: int = 0
    overflow_opened: int = 0
    """Connections ever opened beyond ``size`` (a counter)."""
    timeouts: int = 0
    invalidated: int = 0
    soft_invalidated: int = 0
    closed: int = 0
    reconnects: int = 0
    """New connections that replaced invalidated ones."""
    disconnects: int = 0
    """Errors the dialect recognised as a lost connection."""
    wait: HistogramSnapshot | None = None
    """Checkout wait time (seconds); None when the pool class cannot measure it."""

    @property
    def capacity(self) -> int:
        return self.size + max(self.max_overflow, 0)


@dataclass(frozen=True, slots=True)
class MonitorSnapshot:
    """Everything ``QueryMonitor.snapshot()`` knows, at one instant."""

    taken_at: datetime
    monotonic: float
    """``time.monotonic()`` when taken: subtract two to get rates."""
    attached: bool
    queries: int
    errors: int
    excluded: int
    """Queries run under ``unmonitored()`` (counted here only)."""
    latency: HistogramSnapshot
    statements: tuple[StatementStats, ...]
    """Most total time first; at most the monitor's ``max_statements``."""
    statements_evicted: int
    slow_queries: tuple[SlowQuery, ...]
    """Oldest first; at most the monitor's ``max_slow_queries``."""
    slow_total: int
    """Slow queries ever seen, including those the bounded log has dropped."""
    slow_threshold_seconds: float
    pool: PoolSnapshot

    def queries_per_second(self, older: MonitorSnapshot) -> float:
        elapsed = self.monotonic - older.monotonic
        return (self.queries - older.queries) / elapsed if elapsed > 0 else math.nan


# --- plans -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One step of a query plan; ``details`` keeps everything the server said about it."""

    label: str
    children: tuple[PlanNode, ...] = ()
    details: tuple[tuple[str, str], ...] = ()
    total_cost: float | None = None
    plan_rows: float | None = None
    actual_ms: float | None = None
    """Total time of this node over all loops (EXPLAIN ANALYZE only)."""
    actual_rows: float | None = None
    loops: int | None = None

    def walk(self) -> list[PlanNode]:
        """This node and all below it, depth first."""
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass(frozen=True, slots=True)
class QueryPlan:
    backend: str
    statement: str
    analyzed: bool
    """True when the statement was executed (EXPLAIN ANALYZE, then rolled back)."""
    root: PlanNode
    planning_ms: float | None = None
    execution_ms: float | None = None
    raw: str = ""
    """The server's own output (JSON on PostgreSQL, rows on SQLite), for copying."""

    def render(self) -> str:
        """The plan as an indented text tree."""
        lines: list[str] = []

        def visit(node: PlanNode, depth: int) -> None:
            figures = []
            if node.actual_ms is not None:
                figures.append(f"{node.actual_ms:.3f} ms")
            if node.actual_rows is not None:
                figures.append(f"{node.actual_rows:g} rows")
            elif node.plan_rows is not None:
                figures.append(f"~{node.plan_rows:g} rows")
            suffix = f"  ({', '.join(figures)})" if figures else ""
            lines.append(f"{'  ' * depth}{'-> ' if depth else ''}{node.label}{suffix}")
            for child in node.children:
                visit(child, depth + 1)

        visit(self.root, 0)
        return "\n".join(lines)


# --- server statistics ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerSession:
    pid: int
    user: str | None
    state: str | None
    query: str
    backend_start: datetime | None = None
    query_start: datetime | None = None
    wait_event: str | None = None
    is_self: bool = False
    """The connection that collected these figures."""


@dataclass(frozen=True, slots=True)
class IndexUsage:
    table: str
    index: str
    scans: int | None
    """None where the backend does not count index scans (SQLite)."""
    size_bytes: int | None
    unique: bool = False
    tuples_read: int | None = None

    @property
    def unused(self) -> bool:
        """Never scanned and not enforcing uniqueness: a candidate to drop."""
        return self.scans == 0 and not self.unique


@dataclass(frozen=True, slots=True)
class TableSize:
    table: str
    rows: int | None
    table_bytes: int | None
    index_bytes: int | None
    total_bytes: int | None
    seq_scans: int | None = None
    index_scans: int | None = None


@dataclass(frozen=True, slots=True)
class TopStatement:
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int


@dataclass(frozen=True, slots=True)
class PostgresStats:
    application_name: str
    sessions: tuple[ServerSession, ...]
    indexes: tuple[IndexUsage, ...]
    tables: tuple[TableSize, ...]
    cache_hit_ratio: float | None
    """Shared-buffer hits / block requests for this database since the last reset."""
    top_statements: tuple[TopStatement, ...] = ()
    notes: tuple[str, ...] = ()
    """Plain-language caveats (e.g. pg_stat_statements missing)."""
    stats_reset: datetime | None = None

    @property
    def unused_indexes(self) -> tuple[IndexUsage, ...]:
        return tuple(index for index in self.indexes if index.unused)


@dataclass(frozen=True, slots=True)
class SqliteStats:
    path: str
    file_bytes: int
    wal_bytes: int
    page_count: int
    page_size: int
    freelist_count: int
    cache_size_pages: int
    """The configured page cache; ``cache_size_kib`` is the same in KiB."""
    cache_size_kib: int
    journal_mode: str
    tables: tuple[TableSize, ...] = ()
    indexes: tuple[IndexUsage, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def free_bytes(self) -> int:
        return self.freelist_count * self.page_size
