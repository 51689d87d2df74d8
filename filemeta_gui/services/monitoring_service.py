"""What the database panel reads: a thin facade over ``db.monitoring``, ``db.plans`` and
``db.server_stats`` so the UI never touches the database layer.

The snapshot is an in-memory copy (no query). Server figures and plans are queries of
the panel's own; the functions behind them run ``unmonitored()`` so watching does not
change the figures being watched.
"""

from __future__ import annotations

from filemeta_gui.db import plans, server_stats
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.monitoring import (
    MonitorSnapshot,
    PostgresStats,
    QueryPlan,
    SlowQuery,
    SqliteStats,
)


class MonitoringService:
    """Live figures of one library's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @property
    def backend(self) -> Backend:
        return self.database.backend

    @property
    def name(self) -> str:
        """The database URL with its password hidden."""
        return self.database.name

    @property
    def slow_query_ms(self) -> float:
        return self.database.monitor.slow_query_ms

    def snapshot(self) -> MonitorSnapshot:
        """Query, slow-query and pool figures now (cheap: no database round trip)."""
        return self.database.monitor.snapshot()

    async def server_stats(self) -> PostgresStats | SqliteStats:
        """Index usage, table sizes, cache figures from the server (or the SQLite file)."""
        return await server_stats.collect(self.database)

    async def explain(self, query: SlowQuery) -> QueryPlan:
        """The plan of a slow-query log entry (PostgreSQL SELECTs: measured, rolled back).

        Raises:
            PlanUnavailableError: the entry has left the log or was too long to keep.
        """
        return await plans.explain_slow_query(self.database, query)
