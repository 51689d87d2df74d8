"""The tables of the database panel: slow queries, index usage, server figures."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from filemeta_gui.domain.monitoring import (
    IndexUsage,
    MonitorSnapshot,
    PostgresStats,
    SlowQuery,
    SqliteStats,
)
from filemeta_gui.ui.formatting import human_size

_UNUSED = QColor("#a15c00")
ROW_HEIGHT = 22


def _configure(table: QTableWidget, headers: Sequence[str]) -> None:
    """Read-only rows of fixed height (never ResizeToContents: DESIGN.md traps)."""
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    header = table.horizontalHeader()
    header.setStretchLastSection(True)
    header.setHighlightSections(False)


def _cell(text: str, *, right: bool = False, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tooltip:
        item.setToolTip(tooltip)
    return item


class SlowQueryTable(QTableWidget):
    """Newest first. ``query_at(row)`` gives the :class:`SlowQuery` of a row."""

    HEADERS = ("When", "Duration", "Statement", "Operation")
    STATEMENT = 2

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _configure(self, self.HEADERS)
        _widths(self, {0: 66, 1: 80, 3: 96}, stretch=self.STATEMENT)
        self.setToolTip("Double-click a query to see its plan")
        self._queries: list[SlowQuery] = []

    def set_queries(self, queries: Sequence[SlowQuery]) -> None:
        newest_first = sorted(queries, key=lambda q: q.id, reverse=True)
        if [q.id for q in newest_first] == [q.id for q in self._queries]:
            return
        self._queries = newest_first
        self.setRowCount(len(newest_first))
        for row, query in enumerate(newest_first):
            tip = _query_tooltip(query)
            when = query.started_at.astimezone().strftime("%H:%M:%S")
            duration = f"{query.duration_seconds * 1000:,.0f} ms"
            statement = " ".join(query.normalised.split())
            cells = (
                _cell(when, tooltip=tip),
                _cell(duration, right=True, tooltip=tip),
                _cell(statement, tooltip=tip),
                _cell(query.operation or "—", tooltip=tip),
            )
            for column, cell in enumerate(cells):
                self.setItem(row, column, cell)

    def query_at(self, row: int) -> SlowQuery | None:
        return self._queries[row] if 0 <= row < len(self._queries) else None


def _query_tooltip(query: SlowQuery) -> str:
    lines = [query.statement.strip()[:2000]]
    if query.parameters:
        lines.append("Parameters: " + ", ".join(query.parameters))
    if query.batch_size > 1:
        lines.append(f"Batch of {query.batch_size} rows")
    if query.error:
        lines.append(f"Failed: {query.error}")
    if not query.explainable:
        lines.append("Too long to keep: its plan cannot be shown")
    return "\n".join(lines)


class IndexUsageTable(QTableWidget):
    """One row per index; never-used ones (not enforcing uniqueness) stand out."""

    HEADERS = ("Index", "Table", "Scans", "Size")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _configure(self, self.HEADERS)
        _widths(self, {1: 80, 2: 92, 3: 70}, stretch=0)

    def set_indexes(self, indexes: Sequence[IndexUsage]) -> None:
        ordered = sorted(indexes, key=lambda i: (i.table, -(i.scans or 0), i.index))
        self.setRowCount(len(ordered))
        for row, index in enumerate(ordered):
            scans = "—" if index.scans is None else f"{index.scans:,}"
            if index.unused:
                scans = "0 · unused"
            size = "—" if index.size_bytes is None else human_size(index.size_bytes)
            tip = _index_tooltip(index)
            cells = (
                _cell(index.index, tooltip=tip),
                _cell(index.table, tooltip=tip),
                _cell(scans, right=True, tooltip=tip),
                _cell(size, right=True, tooltip=tip),
            )
            for column, cell in enumerate(cells):
                if index.unused:
                    cell.setForeground(QBrush(_UNUSED))
                self.setItem(row, column, cell)


def _index_tooltip(index: IndexUsage) -> str:
    if index.scans is None:
        return f"{index.index} on {index.table}: SQLite does not count index use."
    if index.unused:
        return (
            f"{index.index} was never scanned since the statistics were reset: a candidate to drop."
        )
    kind = "unique index" if index.unique else "index"
    return f"{index.index}: {kind} on {index.table}, scanned {index.scans:,} times."


def _widths(table: QTableWidget, widths: dict[int, int], stretch: int) -> None:
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(column, width)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def pool_summary(snapshot: MonitorSnapshot) -> str:
    """The pool's counters since the library was opened, as rich text."""
    pool = snapshot.pool
    wait = pool.wait.quantile(0.95) if pool.wait is not None else None
    wait_text = "—" if wait is None else f"{wait * 1000:,.1f} ms"
    rows = [
        ("In use", f"{pool.checked_out} of {pool.size} (+{pool.max_overflow} overflow allowed)"),
        ("Idle", f"{pool.idle}"),
        ("Waiting now", f"{pool.waiting}"),
        ("Checkout wait p95", wait_text),
        ("Connections opened", f"{pool.connects:,} ({pool.overflow_opened:,} overflow)"),
        ("Timeouts", f"{pool.timeouts:,}"),
        ("Invalidated / reconnects", f"{pool.invalidated:,} / {pool.reconnects:,}"),
        ("Queries / errors", f"{snapshot.queries:,} / {snapshot.errors:,}"),
        ("Slow threshold", f"{snapshot.slow_threshold_seconds * 1000:,.0f} ms"),
    ]
    return "<b>Connection pool</b>" + _html_table(rows) + "<br>"


def server_summary(stats: PostgresStats | SqliteStats) -> str:
    """The server's (or the library file's) figures, as rich text."""
    if isinstance(stats, SqliteStats):
        head = f"<b>SQLite library</b> {html.escape(stats.path)}"
        rows = [
            ("File / WAL", f"{human_size(stats.file_bytes)} / {human_size(stats.wal_bytes)}"),
            ("Pages", f"{stats.page_count:,} × {stats.page_size:,} bytes"),
            ("Free space", human_size(stats.free_bytes)),
            ("Page cache", human_size(stats.cache_size_kib * 1024)),
            ("Journal", html.escape(stats.journal_mode)),
        ]
    else:
        ratio = "—" if stats.cache_hit_ratio is None else f"{stats.cache_hit_ratio:.1%}"
        active = sum(1 for s in stats.sessions if s.state == "active")
        head = "<b>PostgreSQL server</b>"
        rows = [
            ("Cache hit ratio", ratio),
            ("This app's sessions", f"{len(stats.sessions)} ({active} active)"),
            ("Unused indexes", f"{len(stats.unused_indexes)}"),
        ]
    text = head + _html_table(rows)
    largest = sorted(stats.tables, key=lambda t: t.total_bytes or 0, reverse=True)[:8]
    if largest:
        text += "<br><b>Largest tables</b>" + _html_table(
            [(t.table, f"{human_size(t.total_bytes)} · {t.rows or 0:,} rows") for t in largest]
        )
    if isinstance(stats, PostgresStats) and stats.top_statements:
        text += "<br><b>Top statements (pg_stat_statements)</b>" + _html_table(
            [
                (f"{s.total_ms:,.0f} ms", html.escape(" ".join(s.query.split())[:90]))
                for s in stats.top_statements[:5]
            ]
        )
    notes = "".join(f"<br><i>{html.escape(note)}</i>" for note in stats.notes)
    return text + notes


def _html_table(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='color:#6b7280; padding-right:12px'>{html.escape(key)}</td>"
        f"<td>{value}</td></tr>"
        for key, value in rows
    )
    return f"<table cellspacing='2'>{cells}</table>"


def make_server_label() -> QLabel:
    label = QLabel("Collecting…")
    label.setObjectName("serverSummary")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setMargin(6)
    return label
