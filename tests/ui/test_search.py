"""Searching: results follow typing (debounced), bad syntax gets a hint, never a dialog."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from filemeta_gui.ui.models.file_columns import SIZE
from filemeta_gui.ui.models.sidebar_model import SidebarKind
from tests.ui.conftest import wait_idle, wait_scanned


def names(window: Any) -> set[str]:
    return {window.model.record(row).filename for row in range(window.model.rowCount())}


def type_query(qtbot: QtBot, window: Any, text: str) -> None:
    edit = window.search.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)
    wait_idle(qtbot, window)


def test_typing_a_query_shows_only_matches(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)

    type_query(qtbot, window, "beach")
    assert names(window) == {"beach_sunset.jpg", "beach_sunset_copy.jpg"}
    assert "2 files match" in window.count_label.text()

    type_query(qtbot, window, "type:image -copy")
    assert names(window) == {
        "beach_sunset.jpg",
        "mountain_lake.jpg",
        "city_night.png",
        "forest_path.jpg",
    }

    type_query(qtbot, window, "type:text OR type:application/pdf")
    assert names(window) == {"meeting_notes.txt", "todo.md", "pancakes.txt", "report_2024.pdf"}


def test_typing_fast_runs_one_query_after_the_pause(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    applied: list[str] = []
    window.model.query_applied.connect(applied.append)

    type_query(qtbot, window, "mountain")
    assert applied == ["mountain"], "keystrokes within the debounce make one query"
    assert names(window) == {"mountain_lake.jpg"}


def test_a_malformed_query_shows_a_hint_and_keeps_the_rows(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    type_query(qtbot, window, "beach")
    type_query(qtbot, window, "beach (sunset")

    assert window.search.hint.isVisible()
    assert window.search.hint.text()
    assert window.search.edit.property("invalid") is True
    assert names(window) == {"beach_sunset.jpg", "beach_sunset_copy.jpg"}

    type_query(qtbot, window, "beach sunset")
    assert not window.search.hint.isVisible()


def test_no_match_shows_a_friendly_screen(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    type_query(qtbot, window, "zebra")
    assert window.ui.page == "empty"
    assert window.ui.empty.mode == "no-match"

    qtbot.mouseClick(window.ui.empty.button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert window.search.text == ""
    assert window.ui.page == "table"


def test_clicking_a_folder_in_the_sidebar_lists_its_files(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    index = window.sidebar_model.find(SidebarKind.FOLDER)
    window.ui.sidebar.clicked.emit(index)
    wait_idle(qtbot, window)
    assert window.search.text.startswith("path:")
    assert len(names(window)) == window.sidebar_model.folders[0].file_count


def test_ctrl_f_focuses_the_search_box(window: Any, qtbot: QtBot) -> None:
    window.ui.sidebar.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.search.edit.hasFocus)


def test_a_slow_query_is_named_in_the_status_bar_until_its_rows_are_in(
    window: Any, qtbot: QtBot, sample_tree: Path, monkeypatch: Any
) -> None:
    """The old rows stay on screen while a query runs; past ``SHOW_AFTER_MS`` the status
    bar says what is on its way, so they are not taken for the answer."""
    wait_scanned(qtbot, window, sample_tree)
    library = window.services.library
    answer = library.page
    gate = asyncio.Event()

    async def held(query: str, request: Any) -> Any:
        await gate.wait()
        return await answer(query, request)

    monkeypatch.setattr(library, "page", held)
    window.run_query("beach")
    qtbot.waitUntil(lambda: window.count_label.text() == "Searching for “beach”…")
    assert window.model.shown.query == ""  # the old rows, still there
    gate.set()
    qtbot.waitUntil(lambda: window.count_label.text() == "2 files match")

    gate.clear()
    window.model.sort(SIZE, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: window.count_label.text() == "Sorting by Size…")
    gate.set()
    qtbot.waitUntil(lambda: window.count_label.text() == "2 files match")


def test_a_query_whose_rows_come_before_its_count_says_it_is_counting(
    window: Any, qtbot: QtBot, sample_tree: Path, monkeypatch: Any
) -> None:
    """Until the count arrives, the status bar does not show the library's totals, which
    would read as the query's answer."""
    wait_scanned(qtbot, window, sample_tree)
    library = window.services.library
    answer = library.count
    gate = asyncio.Event()

    async def held(query: str) -> int:
        await gate.wait()
        return await answer(query)

    monkeypatch.setattr(library, "count", held)
    window.model.configure_blocks(block_size=1, capacity=4)  # two matches: more than a block
    window.run_query("beach")
    qtbot.waitUntil(lambda: window.model.shown.query == "beach")
    qtbot.waitUntil(lambda: window.count_label.text() == "Counting matches…")
    gate.set()
    qtbot.waitUntil(lambda: window.count_label.text() == "2 files match")


def test_a_quick_query_says_nothing_in_the_status_bar(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.pending.timer.setInterval(2_000)  # a machine busy with other work stays quick
    said: list[str] = []
    window.pending.changed.connect(lambda: said.append(window.count_label.text()))
    type_query(qtbot, window, "beach")
    assert said and not any("…" in text for text in said), said
    assert window.count_label.text() == "2 files match"
