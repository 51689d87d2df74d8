"""The database panel over a real database: charts and tables follow the queries being run,
a double-click shows a plan, pausing freezes everything, the panel's own queries are not
counted."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from filemeta_gui.db.engine import Database
from filemeta_gui.services.monitoring_service import MonitoringService
from filemeta_gui.ui.widgets.db_panel import DatabasePanel
from filemeta_gui.ui.widgets.plan_dialog import PlanDialog

INTERVAL_MS = 50


@pytest.fixture
def monitored_db(db_url: str, run_async: Any) -> Iterator[Database]:
    db: Database = run_async(Database.open(db_url))
    # Every query of the workload lands in the slow-query log, whatever the machine.
    db.monitor.slow_query_ms = 0
    yield db
    run_async(db.dispose())


@pytest.fixture
def panel(qtbot: QtBot, monitored_db: Database) -> Iterator[DatabasePanel]:
    widget = DatabasePanel(MonitoringService(monitored_db), interval_ms=INTERVAL_MS, server_every=4)
    qtbot.addWidget(widget)
    widget.resize(720, 900)
    widget.show()
    yield widget
    widget.shutdown()
    qtbot.waitUntil(lambda: not widget._tasks.running())


async def workload(database: Database, rounds: int) -> None:
    """Real library queries: look files up by hash (an indexed column), count them."""
    for round_ in range(rounds):
        async with database.session() as session:
            await session.execute(
                text("SELECT id, file_path FROM files WHERE hash_value = :h"),
                {"h": f"{round_:064x}"},
            )
            await session.execute(text("SELECT count(*) FROM files"))


async def hold_connection_for_samples(
    database: Database, panel: DatabasePanel, samples: int
) -> None:
    """Keep one connection checked out while the panel samples ``samples`` times."""
    async with database.session() as session:
        await session.execute(text("SELECT 1"))
        for _ in range(samples):
            seen: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def done(future: asyncio.Future[None] = seen) -> None:
                if not future.done():
                    future.set_result(None)

            panel.refreshed.connect(done)
            try:
                await seen
            finally:
                panel.refreshed.disconnect(done)


def test_charts_and_tables_follow_the_queries(
    qtbot: QtBot, panel: DatabasePanel, monitored_db: Database, run_async: Any
) -> None:
    assert panel.running
    run_async(workload(monitored_db, 40))
    run_async(hold_connection_for_samples(monitored_db, panel, 3))

    qtbot.waitUntil(lambda: max(panel.rate_chart.values("per second"), default=0) > 0)
    qtbot.waitUntil(lambda: max(finite(panel.latency_chart.values("p95")), default=0) > 0)
    in_use = panel.pool_chart.values("in use")
    assert max(in_use) >= 1, in_use
    pool_size = 5 if monitored_db.is_sqlite else 20
    assert panel.pool_chart.latest("pool size") == pool_size
    pairs = zip(panel.latency_chart.values("p50"), panel.latency_chart.values("p95"), strict=True)
    assert all(p50 <= p95 for p50, p95 in pairs if math.isfinite(p50)), "p50 never above p95"

    table = panel.slow_table
    qtbot.waitUntil(lambda: table.rowCount() > 0)
    statements = [table.item(row, table.STATEMENT).text() for row in range(table.rowCount())]
    assert any("hash_value" in s for s in statements), statements
    assert panel.tabs.tabText(0).startswith("Slow queries (")

    qtbot.waitUntil(lambda: panel.index_table.rowCount() > 0, timeout=10_000)
    indexes = [panel.index_table.item(r, 0).text() for r in range(panel.index_table.rowCount())]
    assert "ix_files_hash_value" in indexes
    assert "of " in panel.status_label.text() and "queries" in panel.status_label.text()


def test_double_click_shows_the_plan_as_a_tree(
    qtbot: QtBot, panel: DatabasePanel, monitored_db: Database, run_async: Any
) -> None:
    run_async(workload(monitored_db, 3))
    table = panel.slow_table
    qtbot.waitUntil(
        lambda: any(
            "hash_value" in (table.item(r, table.STATEMENT).text()) for r in range(table.rowCount())
        )
    )
    panel.set_paused(True)  # the rows stay where they are while we click
    row = next(
        r for r in range(table.rowCount()) if "hash_value" in table.item(r, table.STATEMENT).text()
    )
    table.scrollToItem(table.item(row, 0))
    rect = table.visualRect(table.model().index(row, 0))
    assert table.viewport().rect().contains(rect.center())

    with qtbot.waitSignal(panel.plan_shown, timeout=20_000) as shown:
        # A real double-click is press-release-press-release; QTest's mouseDClick alone
        # lacks the first click in Qt 6, and item views then emit nothing.
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    dialog = shown.args[0]
    assert isinstance(dialog, PlanDialog) and dialog.isVisible()
    steps = [item.text(0) for item in _all_items(dialog.tree)]
    assert steps, "the plan has at least one step"
    assert any(
        "ix_files_hash_value" in step or "Index" in step or "files" in step for step in steps
    ), steps
    if not monitored_db.is_sqlite:
        assert dialog.plan.analyzed, "a PostgreSQL SELECT is measured (then rolled back)"
    dialog.close()


def test_pausing_stops_the_updates(
    qtbot: QtBot, panel: DatabasePanel, monitored_db: Database, run_async: Any
) -> None:
    qtbot.waitUntil(lambda: panel.rate_chart.sample_count >= 2)
    panel.set_paused(True)
    assert not panel.running and panel.pause_button.text() == "Resume"
    frozen = (panel.rate_chart.sample_count, panel.slow_table.rowCount())

    run_async(workload(monitored_db, 10))
    panel.sample()  # what the timer would do: a paused panel ignores it
    assert (panel.rate_chart.sample_count, panel.slow_table.rowCount()) == frozen

    panel.set_paused(False)
    assert panel.running
    qtbot.waitUntil(lambda: panel.rate_chart.sample_count > frozen[0] + 1)
    assert panel.slow_table.rowCount() > frozen[1]


def test_the_panels_own_queries_are_not_counted(
    qtbot: QtBot, panel: DatabasePanel, monitored_db: Database
) -> None:
    with qtbot.waitSignal(panel.server_refreshed, timeout=10_000):
        pass
    before = monitored_db.monitor.snapshot()
    for _ in range(2):  # two more rounds of index usage and cache figures
        with qtbot.waitSignal(panel.server_refreshed, timeout=10_000):
            pass
    after = monitored_db.monitor.snapshot()
    assert after.excluded > before.excluded, "the panel did query the server"
    assert after.queries == before.queries, "…but none of it shows in the figures"


def finite(values: list[float]) -> list[float]:
    """Chart samples with a value (NaN marks a second in which no query ran)."""
    return [v for v in values if math.isfinite(v)]


def _all_items(tree: Any) -> list[Any]:
    items, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        items.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return items
