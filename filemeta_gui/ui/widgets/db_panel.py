"""The live database panel: pool, query rate and latency charts, slow queries, indexes.

Once a second the panel reads the query monitor's in-memory snapshot (no query: a copy of
counters under a lock) and diffs it with the previous one for rates and the p50/p95 of
that second. Server figures (index usage, cache hit ratio) need queries, so they run as a
task every few seconds through the monitoring service, which leaves them out of the
figures; so are the plans shown on double-click.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.monitoring import (
    MonitorSnapshot,
    PostgresStats,
    QueryPlan,
    SlowQuery,
    SqliteStats,
)
from filemeta_gui.ui.errors import report_exception
from filemeta_gui.ui.tasks import TaskRegistry
from filemeta_gui.ui.widgets.db_panel_tables import (
    IndexUsageTable,
    SlowQueryTable,
    make_server_label,
    pool_summary,
    server_summary,
)
from filemeta_gui.ui.widgets.plan_dialog import PlanDialog
from filemeta_gui.ui.widgets.sparkline_chart import Series, SparklineChart

_UNLIMITED = 16_777_215  # QWIDGETSIZE_MAX
REFRESH_MS = 1000
SERVER_EVERY_TICKS = 10
HISTORY_SAMPLES = 300  # five minutes at one sample a second


class MonitoringSource(Protocol):
    """What the panel needs from ``MonitoringService``."""

    def snapshot(self) -> MonitorSnapshot: ...

    async def server_stats(self) -> PostgresStats | SqliteStats: ...

    async def explain(self, query: SlowQuery) -> QueryPlan: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """One second of the panel's charts."""

    in_use: int
    pool_size: int
    waiting: int
    queries_per_second: float
    p50_ms: float
    """NaN when no query ran in the interval."""
    p95_ms: float


def figures(new: MonitorSnapshot, old: MonitorSnapshot | None) -> Figures:
    """Rates and quantiles of what happened between ``old`` and ``new``."""
    pool = new.pool
    if old is None:
        qps, p50, p95 = 0.0, math.nan, math.nan
    else:
        elapsed = new.monotonic - old.monotonic
        qps = (new.queries - old.queries) / elapsed if elapsed > 0 else 0.0
        window = new.latency.since(old.latency)
        # No query in this second means no latency: NaN leaves a gap in the chart.
        p50, p95 = (_ms(window.quantile(q)) for q in (0.5, 0.95))
    return Figures(pool.checked_out, pool.size, pool.waiting, max(qps, 0.0), p50, p95)


def _ms(seconds: float | None) -> float:
    return math.nan if seconds is None else seconds * 1000


class DatabasePanel(QDockWidget):
    """Dock widget "Database". Call :meth:`set_source` when a library is opened.

    Attributes:
        refreshed: emitted after each sample (tests wait on it).
        server_refreshed: emitted after the server figures (index usage…) were read.
        plan_shown: emitted with the plan dialog after a double-click.
    """

    refreshed = Signal()
    server_refreshed = Signal()
    plan_shown = Signal(object)

    def __init__(
        self,
        source: MonitoringSource | None = None,
        parent: QWidget | None = None,
        *,
        tasks: TaskRegistry | None = None,
        interval_ms: int = REFRESH_MS,
        server_every: int = SERVER_EVERY_TICKS,
    ) -> None:
        super().__init__("Database", parent)
        self.setObjectName("databasePanel")
        self._source: MonitoringSource | None = None
        # Not "tasks or …": an empty registry is falsy (it has a length).
        self._tasks = tasks if tasks is not None else TaskRegistry(on_error=report_exception)
        self._previous: MonitorSnapshot | None = None
        self._ticks = 0
        self._server_every = max(server_every, 1)
        self.plan_dialog: PlanDialog | None = None
        self._timer_interval_ms = interval_ms
        self._server_html = "Collecting…"
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.sample)
        self.visibilityChanged.connect(self._visibility_changed)
        self.set_source(source)

    def _build(self) -> None:
        self.status_label = QLabel("No library open")
        self.status_label.setObjectName("panelStatus")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Freeze the charts and tables")
        self.pause_button.toggled.connect(self._pause_toggled)
        header = QHBoxLayout()
        header.addWidget(self.status_label, 1)
        header.addWidget(self.pause_button)

        seconds = HISTORY_SAMPLES * self._timer_interval_ms / 1000
        span = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
        self.pool_chart = SparklineChart(
            "Connections",
            [
                Series("in use", QColor("#2563eb"), filled=True),
                Series("pool size", QColor("#6b7280"), dashed=True),
            ],
            capacity=HISTORY_SAMPLES,
            time_span=span,
        )
        self.rate_chart = SparklineChart(
            "Queries",
            [Series("per second", QColor("#16a34a"), filled=True)],
            capacity=HISTORY_SAMPLES,
            time_span=span,
            unit="/s",
            decimals=1,
        )
        self.latency_chart = SparklineChart(
            "Latency",
            [("p50", "#2563eb"), ("p95", "#ea580c")],
            capacity=HISTORY_SAMPLES,
            time_span=span,
            unit="ms",
            decimals=1,
        )

        self.slow_table = SlowQueryTable()
        self.slow_table.setObjectName("slowQueries")
        self.slow_table.doubleClicked.connect(self._slow_query_activated)
        self.index_table = IndexUsageTable()
        self.index_table.setObjectName("indexUsage")
        self.server_label = make_server_label()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.slow_table, "Slow queries")
        self.tabs.addTab(self.index_table, "Indexes")
        self.tabs.addTab(self.server_label, "Pool && server")
        self.tabs.currentChanged.connect(lambda _index: self._show_details())

        charts = QWidget()
        chart_column = QVBoxLayout(charts)
        chart_column.setContentsMargins(0, 0, 0, 0)
        for chart in (self.pool_chart, self.rate_chart, self.latency_chart):
            chart_column.addWidget(chart)
        body = _AdaptiveBody(charts, self.tabs)
        body.outer.insertLayout(0, header)
        self.setWidget(body)
        self.setMinimumWidth(300)

    # -- source and timer -----------------------------------------------------

    def set_source(self, source: MonitoringSource | None) -> None:
        """Watch another library (None: nothing open); the history starts again."""
        self._tasks.cancel("panel-server")
        self._tasks.cancel("panel-plan")
        self._source = source
        self._previous = None
        self._ticks = 0
        for chart in (self.pool_chart, self.rate_chart, self.latency_chart):
            chart.clear()
        self.slow_table.set_queries(())
        self.index_table.set_indexes(())
        self._server_html = "Collecting…" if source else "No library open"
        self.server_label.setText(self._server_html)
        self.status_label.setText("Starting…" if source else "No library open")
        self._update_timer()

    @property
    def paused(self) -> bool:
        return self.pause_button.isChecked()

    def set_paused(self, paused: bool) -> None:
        self.pause_button.setChecked(paused)

    @property
    def running(self) -> bool:
        """True while the timer samples (a source, not paused, the dock visible)."""
        return self._timer.isActive()

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        # After a pause, rates restart from a fresh baseline rather than averaging the gap.
        self._previous = None
        self._update_timer()
        if paused:
            self.status_label.setText(f"Paused — {self.status_label.text()}")

    def _visibility_changed(self, _visible: bool) -> None:
        self._update_timer()

    def _update_timer(self) -> None:
        active = self._source is not None and not self.paused and not self.isHidden()
        if active and not self._timer.isActive():
            self._timer.start()
            self.sample()
        elif not active:
            self._timer.stop()

    # -- sampling -------------------------------------------------------------

    def sample(self) -> None:
        """Take one sample now (the timer calls this every second)."""
        if self._source is None or self.paused:
            return
        snapshot = self._source.snapshot()
        current = figures(snapshot, self._previous)
        if self._previous is not None:
            self.pool_chart.append(current.in_use, current.pool_size)
            self.rate_chart.append(current.queries_per_second)
            self.latency_chart.append(current.p50_ms, current.p95_ms)
        self._previous = snapshot
        self.slow_table.set_queries(snapshot.slow_queries)
        self._show_details()
        self.tabs.setTabText(0, f"Slow queries ({snapshot.slow_total:,})")
        self.status_label.setText(_status(current, snapshot))
        if self._ticks % self._server_every == 0 and not self._tasks.running("panel-server"):
            self._tasks.start(self._refresh_server(self._source), key="panel-server")
        self._ticks += 1
        self.refreshed.emit()

    def _show_details(self) -> None:
        """Fill the "Pool & server" tab when it is the one on screen."""
        if self.tabs.currentWidget() is self.server_label and self._previous is not None:
            self.server_label.setText(pool_summary(self._previous) + self._server_html)

    async def _refresh_server(self, source: MonitoringSource) -> None:
        stats = await source.server_stats()
        if source is not self._source or self.paused:
            return
        self.index_table.set_indexes(stats.indexes)
        self.tabs.setTabText(1, f"Indexes ({len(stats.indexes)})")
        self._server_html = server_summary(stats)
        self.server_refreshed.emit()

    # -- plans ----------------------------------------------------------------

    def _slow_query_activated(self, index: QModelIndex) -> None:
        query = self.slow_table.query_at(index.row())
        if query is not None:
            self.show_plan(query)

    def show_plan(self, query: SlowQuery) -> None:
        if self._source is None:
            return
        if not query.explainable:
            self.status_label.setText("That statement was too long to keep: no plan.")
            return
        self.status_label.setText("Explaining…")
        self._tasks.start(self._explain(self._source, query), key="panel-plan")

    async def _explain(self, source: MonitoringSource, query: SlowQuery) -> None:
        plan = await source.explain(query)
        if self.plan_dialog is not None:
            self.plan_dialog.close()
        dialog = PlanDialog(query, plan, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "plan_dialog", None))
        self.plan_dialog = dialog
        dialog.show()
        self.plan_shown.emit(dialog)

    def shutdown(self) -> None:
        """Stop sampling and cancel the panel's queries (the window is closing)."""
        self._timer.stop()
        self._tasks.cancel("panel-server")
        self._tasks.cancel("panel-plan")


class _AdaptiveBody(QWidget):
    """Charts above the tables in a tall dock (left or right), beside them in a wide one
    (top or bottom), so neither is squeezed whichever edge the panel is docked to."""

    def __init__(self, charts: QWidget, tables: QWidget) -> None:
        super().__init__()
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(6, 6, 6, 6)
        self._charts = charts
        self._laid_out = False
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.addWidget(charts)
        self.split.addWidget(tables, 1)
        self.outer.addLayout(self.split, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        wide = event.size().width() > 1.6 * event.size().height()
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.split.direction() != direction or not self._laid_out:
            self._laid_out = True
            self.split.setDirection(direction)
            self._charts.setMaximumWidth(420 if wide else _UNLIMITED)
            # Tall: the tables below get what the charts do not need. Wide: charts fill
            # their column.
            for chart in self._charts.findChildren(SparklineChart):
                chart.setMaximumHeight(_UNLIMITED if wide else 150)
        super().resizeEvent(event)


def _status(current: Figures, snapshot: MonitorSnapshot) -> str:
    pool = snapshot.pool
    text = f"{current.in_use} of {pool.size} connections in use"
    if pool.overflow:
        text += f" (+{pool.overflow} overflow)"
    if current.waiting:
        text += f" · {current.waiting} waiting"
    return f"{text} · {snapshot.queries:,} queries"
