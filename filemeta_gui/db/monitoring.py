"""``QueryMonitor``: per-query timing, a slow-query log and pool figures, always on.

It listens to ``engine.sync_engine`` (cursor and pool events) and keeps only bounded,
aggregated state: a latency histogram with fixed buckets, an LRU table of normalised
statements and a ring of recent slow queries. The work per query is two clock reads, a
cached normalisation and a few counter updates (``benchmarks/bench_monitoring.py`` prints
what that costs). ``snapshot()`` copies it all into frozen records under a lock, so the
Prometheus endpoint may read it from its own thread.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from filemeta_gui.db.monitored_pool import MonitoredQueuePool
from filemeta_gui.db.query_context import (
    _OPERATION,
    _UNMONITORED,
    current_operation,
    operation,
    unmonitored,
)
from filemeta_gui.db.statement_text import normalise_statement, redact_parameters
from filemeta_gui.domain.monitoring import (
    HistogramSnapshot,
    MonitorSnapshot,
    PoolSnapshot,
    SlowQuery,
    StatementStats,
)

__all__ = [
    "DEFAULT_SLOW_QUERY_MS",
    "LATENCY_BUCKETS",
    "WAIT_BUCKETS",
    "QueryMonitor",
    "current_operation",
    "normalise_statement",
    "operation",
    "redact_parameters",
    "unmonitored",
]

DEFAULT_SLOW_QUERY_MS = 100.0
DEFAULT_MAX_STATEMENTS = 500
DEFAULT_MAX_SLOW_QUERIES = 200
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
WAIT_BUCKETS = (0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30)
# Longer statements (bulk multi-row INSERTs) are shown truncated and cannot be explained.
MAX_KEPT_STATEMENT_CHARS = 20_000
_START = "_filemeta_started"  # attribute set on the ExecutionContext between the events


class _Histogram:
    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket (Prometheus "le").
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def freeze(self) -> HistogramSnapshot:
        return HistogramSnapshot(self.bounds, tuple(self.counts), self.total)


class _StatementEntry:
    __slots__ = ("calls", "errors", "last_operation", "max", "total")

    def __init__(self) -> None:
        self.calls = self.errors = 0
        self.total = self.max = 0.0
        self.last_operation: str | None = None

    def freeze(self, statement: str) -> StatementStats:
        return StatementStats(
            statement, self.calls, self.errors, self.total, self.max, self.last_operation
        )


class QueryMonitor:
    """Collects query, slow-query and pool figures of one engine.

    Args:
        slow_query_ms: queries taking at least this long go to the slow-query log.
        max_statements: size of the LRU table of normalised statements.
        max_slow_queries: size of the slow-query ring.
    """

    def __init__(
        self,
        *,
        slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
        max_statements: int = DEFAULT_MAX_STATEMENTS,
        max_slow_queries: int = DEFAULT_MAX_SLOW_QUERIES,
    ) -> None:
        self.slow_query_ms = slow_query_ms
        self.max_statements = max(max_statements, 1)
        self.max_slow_queries = max(max_slow_queries, 1)
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._listeners: list[tuple[str, Callable[..., Any]]] = [
            ("before_cursor_execute", self._before_execute),
            ("after_cursor_execute", self._after_execute),
            ("handle_error", self._on_error),
            ("connect", self._on_connect),
            ("checkout", self._on_checkout),
            ("checkin", self._on_checkin),
            ("invalidate", self._on_invalidate),
            ("soft_invalidate", self._on_soft_invalidate),
            ("close", self._on_close),
        ]
        self._waiting = 0
        self._next_slow_id = 0  # never reset: the panel may still hold older entries' ids
        self.reset()

    # --- configuration and lifecycle ------------------------------------------------------

    @property
    def slow_query_ms(self) -> float:
        return self._slow_seconds * 1000

    @slow_query_ms.setter
    def slow_query_ms(self, value: float) -> None:
        self._slow_seconds = max(value, 0.0) / 1000

    @property
    def attached(self) -> bool:
        return self._engine is not None

    def attach(self, engine: AsyncEngine | Engine) -> None:
        """Start listening to ``engine`` (an ``AsyncEngine`` or its ``sync_engine``)."""
        sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        if self._engine is not None:
            raise RuntimeError("this QueryMonitor is already attached to an engine")
        for name, listener in self._listeners:
            event.listen(sync_engine, name, listener)
        self._engine = sync_engine
        pool = sync_engine.pool
        if isinstance(pool, MonitoredQueuePool):
            pool.observer = self

    def detach(self) -> None:
        """Stop listening; the figures gathered so far stay readable."""
        engine, self._engine = self._engine, None
        if engine is None:
            return
        for name, listener in self._listeners:
            event.remove(engine, name, listener)
        pool = engine.pool
        if isinstance(pool, MonitoredQueuePool) and pool.observer is self:
            pool.observer = None

    def reset(self) -> None:
        """Forget every figure (the pool's current state is read live and stays)."""
        with self._lock:
            self._latency = _Histogram(LATENCY_BUCKETS)
            self._wait = _Histogram(WAIT_BUCKETS)
            self._statements: OrderedDict[str, _StatementEntry] = OrderedDict()
            self._slow: deque[SlowQuery] = deque(maxlen=self.max_slow_queries)
            # Driver statement and first parameter row of each logged slow query, kept
            # only so its plan can be produced; never part of a snapshot.
            self._slow_arguments: OrderedDict[int, tuple[str, Any]] = OrderedDict()
            self._queries = self._errors = self._excluded = self._evicted = 0
            self._slow_total = 0
            self._checkouts = self._checkins = self._connects = self._overflow_opened = 0
            self._timeouts = self._invalidated = self._soft_invalidated = self._closed = 0
            self._reconnects = self._pending_replacements = self._disconnects = 0

    # --- cursor events ----------------------------------------------------------------------

    def _before_execute(
        self, conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if _UNMONITORED.get():
            self._excluded += 1
            return
        started = time.perf_counter()
        if context is not None:
            context.__dict__[_START] = started
        else:  # special executions (defaults, sequences) come without a context
            conn.info.setdefault(_START, []).append(started)

    def _after_execute(
        self, conn: Any, _cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        started = _pop_start(conn, context)
        if started is not None:
            self._record(statement, params, many, time.perf_counter() - started, None)

    def _on_error(self, error_context: Any) -> None:
        if error_context.is_disconnect:
            self._disconnects += 1
        context = error_context.execution_context
        started = _pop_start(error_context.connection, context)
        if started is None:
            return
        self._record(
            error_context.statement or "",
            error_context.parameters,
            bool(getattr(context, "executemany", False)),
            time.perf_counter() - started,
            type(error_context.original_exception).__name__,
        )

    def _record(
        self, statement: str, params: Any, many: bool, seconds: float, error: str | None
    ) -> None:
        key = normalise_statement(statement)
        operation_name = _OPERATION.get()
        with self._lock:
            self._queries += 1
            self._latency.observe(seconds)
            entry = self._statements.get(key)
            if entry is None:
                entry = self._statements[key] = _StatementEntry()
                if len(self._statements) > self.max_statements:
                    self._statements.popitem(last=False)
                    self._evicted += 1
            else:
                self._statements.move_to_end(key)
            entry.calls += 1
            entry.total += seconds
            entry.max = max(entry.max, seconds)
            entry.last_operation = operation_name or entry.last_operation
            if error is not None:
                self._errors += 1
                entry.errors += 1
            if seconds >= self._slow_seconds:
                self._log_slow(statement, key, params, many, seconds, error, operation_name)

    def _log_slow(
        self,
        statement: str,
        normalised: str,
        params: Any,
        many: bool,
        seconds: float,
        error: str | None,
        operation_name: str | None,
    ) -> None:
        types, batch = redact_parameters(params, many)
        explainable = len(statement) <= MAX_KEPT_STATEMENT_CHARS
        self._next_slow_id += 1
        self._slow_total += 1
        entry = SlowQuery(
            id=self._next_slow_id,
            statement=statement[:MAX_KEPT_STATEMENT_CHARS],
            normalised=normalised,
            parameters=types,
            duration_seconds=seconds,
            started_at=datetime.now(UTC) - timedelta(seconds=seconds),
            operation=operation_name,
            batch_size=batch,
            error=error,
            explainable=explainable,
        )
        self._slow.append(entry)  # the deque drops the oldest beyond its maxlen
        if explainable:
            first = params[0] if many and isinstance(params, list | tuple) and params else params
            self._slow_arguments[entry.id] = (statement, first)
            while len(self._slow_arguments) > self.max_slow_queries:
                self._slow_arguments.popitem(last=False)

    def slow_query_arguments(self, slow_query_id: int) -> tuple[str, Any] | None:
        """Driver statement and parameters of a logged slow query, for ``EXPLAIN``.

        None once the entry has left the log (or was too long to keep).
        """
        with self._lock:
            return self._slow_arguments.get(slow_query_id)

    # --- pool events and the pool's own observer calls --------------------------------------

    def _on_connect(self, _dbapi_connection: Any, _record: Any) -> None:
        self._connects += 1
        if self._pending_replacements:
            self._pending_replacements -= 1
            self._reconnects += 1

    def _on_checkout(self, _dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self._checkouts += 1

    def _on_checkin(self, _dbapi_connection: Any, _record: Any) -> None:
        self._checkins += 1

    def _on_invalidate(self, _dbapi_connection: Any, _record: Any, _error: Any) -> None:
        self._invalidated += 1
        self._pending_replacements += 1

    def _on_soft_invalidate(self, _dbapi_connection: Any, _record: Any, _error: Any) -> None:
        self._soft_invalidated += 1
        self._pending_replacements += 1

    def _on_close(self, _dbapi_connection: Any, _record: Any) -> None:
        self._closed += 1

    def checkout_started(self) -> None:
        self._waiting += 1

    def checkout_finished(self, seconds: float, *, succeeded: bool, timed_out: bool) -> None:
        self._waiting -= 1
        if timed_out:
            self._timeouts += 1
        if succeeded:
            with self._lock:
                self._wait.observe(seconds)

    def overflow_opened(self) -> None:
        self._overflow_opened += 1

    # --- reading ------------------------------------------------------------------------------

    def snapshot(self) -> MonitorSnapshot:
        """Every figure at this instant, as frozen records."""
        with self._lock:
            statements = [entry.freeze(key) for key, entry in self._statements.items()]
            latency, wait = self._latency.freeze(), self._wait.freeze()
            slow = tuple(self._slow)
            counts = (self._queries, self._errors, self._excluded, self._evicted)
            slow_total = self._slow_total
        statements.sort(key=lambda stats: stats.total_seconds, reverse=True)
        queries, errors, excluded, evicted = counts
        return MonitorSnapshot(
            taken_at=datetime.now(UTC),
            monotonic=time.monotonic(),
            attached=self.attached,
            queries=queries,
            errors=errors,
            excluded=excluded,
            latency=latency,
            statements=tuple(statements),
            statements_evicted=evicted,
            slow_queries=slow,
            slow_total=slow_total,
            slow_threshold_seconds=self._slow_seconds,
            pool=self._pool_snapshot(wait),
        )

    def _pool_snapshot(self, wait: HistogramSnapshot) -> PoolSnapshot:
        pool = self._engine.pool if self._engine is not None else None
        size = max_overflow = checked_out = idle = overflow = 0
        if isinstance(pool, QueuePool):
            size, checked_out, idle = pool.size(), pool.checkedout(), pool.checkedin()
            # QueuePool counts overflow up from -size; only the part above zero is overflow.
            overflow, max_overflow = max(pool.overflow(), 0), pool._max_overflow
        return PoolSnapshot(
            size=size,
            max_overflow=max_overflow,
            checked_out=checked_out,
            idle=idle,
            overflow=overflow,
            waiting=max(self._waiting, 0),
            checkouts=self._checkouts,
            checkins=self._checkins,
            connects=self._connects,
            overflow_opened=self._overflow_opened,
            timeouts=self._timeouts,
            invalidated=self._invalidated,
            soft_invalidated=self._soft_invalidated,
            closed=self._closed,
            reconnects=self._reconnects,
            disconnects=self._disconnects,
            wait=wait if isinstance(pool, MonitoredQueuePool) else None,
        )


def _pop_start(conn: Any, context: Any) -> float | None:
    if context is not None:
        started: float | None = context.__dict__.pop(_START, None)
        return started
    stack = conn.info.get(_START) if conn is not None else None
    return stack.pop() if stack else None
