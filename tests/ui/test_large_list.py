"""The file list as a bounded window over a few thousand rows (both backends).

The model fetches blocks of rows as the views paint them; these tests count the block
queries and look at the blocks held while the table scrolls, sorts, filters and refreshes.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView
from pytestqt.qtbot import QtBot

from filemeta_gui.db.models import File
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.ui.models.file_columns import NAME, SIZE
from filemeta_gui.ui.models.file_table_model import PLACEHOLDER
from tests.repositories.factories import add_files, file_row
from tests.ui.conftest import wait_idle

ROWS = 3000
_TOP = QAbstractItemView.ScrollHint.PositionAtTop


def name(row: int) -> str:
    return f"file_{row:05d}.txt"


def add_rows(window: Any, run_async: Any, count: int, prefix: str = "file", start: int = 0) -> None:
    """``count`` rows straight into the library; sizes fall as names rise."""

    async def insert() -> None:
        async with window.services.database.session(write=True) as session:
            rows = [
                file_row(f"/lib/{prefix}_{i:05d}.txt", file_size=10_000 - i)
                for i in range(start, start + count)
            ]
            await add_files(session, *rows)

    run_async(insert())


def open_library(window: Any, qtbot: QtBot, run_async: Any, count: int = ROWS) -> Any:
    # These tests count queries: no live update may refresh the list behind their back
    # (our own inserts come from another connection, which the change feed reports).
    run_async(window.team.stop())
    add_rows(window, run_async, count)
    window.refresh(keep_rows=False)
    wait_idle(qtbot, window)
    assert window.ui.page == "table"
    return window.model


def visible_rows(table: QTableView) -> range:
    first = table.rowAt(0)
    last = table.rowAt(table.viewport().height() - 1)
    return range(first, (last if last >= 0 else table.model().rowCount() - 1) + 1)


def shown_names(window: Any) -> list[str | None]:
    model = window.model
    rows = visible_rows(window.ui.table)
    return [r.filename if (r := model.record(row)) else None for row in rows]


def wait_rows_shown(qtbot: QtBot, window: Any) -> None:
    qtbot.waitUntil(lambda: None not in shown_names(window))
    wait_idle(qtbot, window)


def test_opening_counts_every_row_but_holds_one_block(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)

    assert model.rowCount() == ROWS and model.total == ROWS
    assert model.cache.blocks == [0]
    assert model.planner.anchors is not None and len(model.planner.anchors) == ROWS // 200
    assert shown_names(window) == [name(row) for row in visible_rows(window.ui.table)]
    assert f"{ROWS:,} files" in window.count_label.text()


def test_the_anchors_are_asked_for_beside_the_count(
    window: Any, qtbot: QtBot, run_async: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list of more than one block: a far jump needs the anchors, which need no count,
    so they are not asked for only once the count has come back."""
    run_async(window.team.stop())
    add_rows(window, run_async, ROWS)
    library = window.model.library
    calls: list[str] = []
    for method in ("count", "anchors"):
        real = getattr(library, method)

        async def spy(*args: Any, _real: Any = real, _name: str = method, **kwargs: Any) -> Any:
            calls.append(f"{_name} asked")
            try:
                return await _real(*args, **kwargs)
            finally:
                calls.append(f"{_name} answered")

        monkeypatch.setattr(library, method, spy)

    window.refresh(keep_rows=False)
    wait_idle(qtbot, window)

    assert calls.index("anchors asked") < calls.index("count answered"), calls
    assert window.model.rowCount() == ROWS
    anchors = window.model.planner.anchors
    assert anchors is not None and len(anchors) == ROWS // 200


def test_scrolling_to_the_end_fetches_only_the_blocks_on_screen(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    before = model.loader.block_queries

    window.ui.table.scrollToBottom()
    wait_rows_shown(qtbot, window)

    rows = visible_rows(window.ui.table)
    assert rows[-1] == ROWS - 1
    on_screen = {row // model.block_size for row in rows}
    assert model.loader.block_queries - before == len(on_screen)
    assert set(model.cache.blocks) == {0} | on_screen
    assert shown_names(window) == [name(row) for row in rows]


def test_a_far_jump_fetches_that_block_and_nothing_before(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    model.configure_blocks(block_size=20, capacity=5)
    wait_idle(qtbot, window)
    assert model.planner.anchors is not None
    before = model.loader.block_queries
    table = window.ui.table

    table.scrollTo(model.index(1507, NAME), _TOP)
    assert model.data(model.index(1507, NAME)) == PLACEHOLDER
    wait_rows_shown(qtbot, window)

    on_screen = {row // 20 for row in visible_rows(table)}
    assert min(on_screen) == 75
    assert model.loader.block_queries - before == len(on_screen)
    assert shown_names(window) == [name(row) for row in visible_rows(table)]


def test_scrolling_through_everything_keeps_the_cache_bounded(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async, count=1000)
    model.configure_blocks(block_size=20, capacity=5)
    wait_idle(qtbot, window)
    before, held = model.loader.block_queries, len(model.cache)
    table = window.ui.table
    seen: dict[int, str] = {}
    top = 0
    while top < model.rowCount():
        table.scrollTo(model.index(top, NAME), _TOP)
        wait_rows_shown(qtbot, window)
        assert len(model.cache) <= 5
        rows = visible_rows(table)
        seen.update(zip(rows, shown_names(window), strict=True))
        top = rows[-1] + 1

    assert [seen[row] for row in range(1000)] == [name(row) for row in range(1000)]
    # Every block once: each scroll step shows the next rows, nothing is fetched twice.
    assert model.loader.block_queries - before == 1000 // 20 - held
    assert model.cache.rows_cached <= 5 * 20


def test_sorting_replaces_the_window(window: Any, qtbot: QtBot, run_async: Any) -> None:
    model = open_library(window, qtbot, run_async)
    window.ui.table.scrollToBottom()
    wait_rows_shown(qtbot, window)
    anchors_before = model.loader.anchor_queries
    header = window.ui.table.horizontalHeader()

    with qtbot.waitSignal(model.query_applied):
        qtbot.mouseClick(
            header.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(header.sectionViewportPosition(SIZE) + 10, 5),
        )
    assert model.shown.sort == SortColumn.SIZE
    assert model.cache.blocks == [0]
    wait_idle(qtbot, window)
    assert model.rowCount() == ROWS
    assert model.loader.anchor_queries == anchors_before + 1

    window.ui.table.scrollToBottom()
    wait_rows_shown(qtbot, window)
    # Sizes fall as names rise: by size, the list ends with the first name.
    assert shown_names(window)[-1] == name(0)
    sizes = [model.record(row).file_size for row in visible_rows(window.ui.table)]
    assert sizes == sorted(sizes)


def test_filtering_replaces_the_window(window: Any, qtbot: QtBot, run_async: Any) -> None:
    model = open_library(window, qtbot, run_async)
    window.ui.table.scrollToBottom()
    wait_rows_shown(qtbot, window)

    window.search.set_text("file_01")
    wait_idle(qtbot, window)

    assert model.shown.query == "file_01"
    assert model.rowCount() == 1000 and model.total == 1000
    assert "1,000 files match" in window.count_label.text()
    assert max(model.cache.blocks) < 1000 // model.block_size
    window.ui.table.scrollToBottom()
    wait_rows_shown(qtbot, window)
    assert shown_names(window)[-1] == name(1999)


def test_a_new_query_cancels_the_fetches_of_the_old_one(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    stored: list[tuple[int, str]] = []
    model.block_loaded.connect(lambda number: stored.append((number, model.shown.query)))
    table = window.ui.table

    table.scrollTo(model.index(2100, NAME), _TOP)
    model.data(model.index(2100, NAME))  # what a paint does: the block is queued
    assert window.tasks.running(f"file-model-{id(model)}-blocks")
    model.set_query("file_00")
    assert not window.tasks.running(f"file-model-{id(model)}-blocks")
    wait_idle(qtbot, window)

    assert model.shown.query == "file_00"
    assert all(query == "file_00" for _number, query in stored)
    assert model.rowCount() == 1000


def _scrolled_with_a_selection(window: Any, qtbot: QtBot, run_async: Any) -> tuple[Any, ...]:
    """The list scrolled to row 1500 with row 1510 selected: model, table, the selected
    record and the scroll bar's value."""
    model = open_library(window, qtbot, run_async)
    table = window.ui.table
    table.scrollTo(model.index(1500, NAME), _TOP)
    wait_rows_shown(qtbot, window)
    table.selectRow(1510)
    return model, table, model.record(1510), table.verticalScrollBar().value()


def test_a_refresh_keeps_the_scroll_position_and_the_selection(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model, table, chosen, scrolled = _scrolled_with_a_selection(window, qtbot, run_async)
    # 50 files whose names sort before every other: the rows on screen move down by 50.
    add_rows(window, run_async, 50, prefix="aaa")
    before = model.loader.block_queries

    with qtbot.waitSignal(model.refreshed):
        window.refresh()
    wait_idle(qtbot, window)
    assert model.loader.block_queries - before <= 4, "only the blocks on screen are re-read"

    assert model.rowCount() == ROWS + 50 and model.total == ROWS + 50
    assert table.verticalScrollBar().value() == scrolled
    assert [r.id for r in window.selected_records()] == [chosen.id]
    assert model.row_of(chosen.id) == 1560
    assert len(model.cache) <= 4, "a refresh drops the blocks not on screen"
    assert None not in shown_names(window)


def test_a_refresh_that_moves_no_row_repaints_only_the_changed_rows(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    """A scan storing hashes changes rows but moves none: no reset, the selection and the
    scroll position untouched, a repaint for the rows that changed only."""
    model, table, chosen, scrolled = _scrolled_with_a_selection(window, qtbot, run_async)
    changed = [model.record(1505), model.record(1506)]
    resets: list[bool] = []
    repainted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.dataChanged.connect(lambda top, bottom: repainted.append((top.row(), bottom.row())))

    async def grow() -> None:
        async with window.services.database.session(write=True) as session:
            await session.execute(
                sa.update(File)
                .where(File.id.in_([record.id for record in changed]))
                .values(file_size=123_456_789)
            )

    run_async(grow())
    with qtbot.waitSignal(model.refreshed):
        window.refresh()
    wait_idle(qtbot, window)

    assert resets == []
    assert repainted == [(1505, 1506)], "one signal for the two neighbouring rows"
    assert model.data(model.index(1505, SIZE)) == "118 MB"
    assert table.verticalScrollBar().value() == scrolled
    assert [r.id for r in window.selected_records()] == [chosen.id]
    # A new file moves rows: that refresh resets the list, as before.
    add_rows(window, run_async, 1, prefix="aaa")
    with qtbot.waitSignal(model.refreshed):
        window.refresh()
    wait_idle(qtbot, window)
    assert resets == [True]
    assert model.row_of(chosen.id) == 1511
    assert [r.id for r in window.selected_records()] == [chosen.id]


def test_refreshes_asked_for_while_one_runs_are_coalesced(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    refreshed: list[bool] = []
    model.refreshed.connect(lambda: refreshed.append(True))

    for _ in range(5):  # a scan refreshing faster than a refresh takes
        window.model.reload(keep_rows=True)
    wait_idle(qtbot, window)

    assert len(refreshed) == 2, "the first refresh, then one for all asked meanwhile"


def test_the_grid_pages_through_the_same_window(window: Any, qtbot: QtBot, run_async: Any) -> None:
    model = open_library(window, qtbot, run_async)
    window.acts.view_grid.trigger()
    grid = window.ui.grid

    grid.scrollToBottom()
    qtbot.waitUntil(lambda: model.record(ROWS - 1) is not None)
    wait_idle(qtbot, window)

    bottom = grid.indexAt(QPoint(40, grid.viewport().height() - 60))
    assert bottom.row() >= ROWS - 8
    assert model.record(bottom.row()).filename == name(bottom.row())
    assert len(model.cache) <= model.cache.capacity
    window.acts.view_table.trigger()


def test_selected_files_stay_known_when_their_rows_scroll_away(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    model.configure_blocks(block_size=20, capacity=3)
    wait_idle(qtbot, window)
    table = window.ui.table
    table.selectionModel().select(
        QItemSelection(model.index(2, 0), model.index(7, model.columnCount() - 1)),
        QItemSelectionModel.SelectionFlag.ClearAndSelect,
    )
    # Through the middle to the end: four blocks or more pass a cache of three, so the
    # first leaves it whatever blocks a busy machine skips on the way (straight to the
    # end, only the last two might be read).
    table.scrollTo(model.index(ROWS // 2, 0))
    wait_rows_shown(qtbot, window)
    table.scrollToBottom()
    wait_rows_shown(qtbot, window)
    assert 0 not in model.cache.blocks, "the selected rows' block left the cache"

    assert [r.filename for r in window.selected_records()] == [name(r) for r in range(2, 8)]
    table.setFocus()
    with qtbot.waitSignal(window.files.removed) as removed:
        qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert removed.args == [6]
    wait_idle(qtbot, window)
    assert model.total == ROWS - 6


def test_a_selection_larger_than_what_is_loaded_is_refused(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    model = open_library(window, qtbot, run_async)
    table = window.ui.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.selected_count() == ROWS
    assert len(window.selected_records()) < ROWS

    qtbot.keyClick(table, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)

    assert "Cannot remove 3,000 files at once" in window.statusBar().currentMessage()
    assert model.total == ROWS
