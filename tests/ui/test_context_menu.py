"""The file list's context menu, opened by a right click and used by clicking its items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from filemeta_gui.ui import file_actions
from tests.ui.conftest import wait_idle, wait_scanned
from tests.ui.test_browse import click_file
from tests.ui.test_tags import select, tag_selection, tags_of
from tests.ui.test_window_menus import click_item, right_click


class DesktopRecorder:
    """Stands in for ``QDesktopServices``: what would have been opened."""

    def __init__(self) -> None:
        self.opened: list[QUrl] = []

    def openUrl(self, url: QUrl) -> bool:
        self.opened.append(url)
        return True


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch) -> DesktopRecorder:
    recorder = DesktopRecorder()
    monkeypatch.setattr(file_actions, "QDesktopServices", recorder)
    return recorder


def file_menu(qtbot: QtBot, window: Any, name: str) -> QMenu:
    """Right-click the file's row: it gets selected and its context menu pops up."""
    table = window.ui.table
    row = next(r for r in range(window.model.rowCount()) if window.model.record(r).filename == name)
    right_click(qtbot, table, table.visualRect(window.model.index(row, 0)).center())
    menu = window.files.menu
    assert menu is not None and menu.isVisible()
    assert [r.filename for r in window.selected_records()] == [name]
    return menu


def test_open_and_open_containing_folder_hand_the_file_to_the_desktop(
    window: Any, qtbot: QtBot, sample_tree: Path, desktop: DesktopRecorder
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    todo = sample_tree / "notes" / "todo.md"

    click_item(qtbot, file_menu(qtbot, window, "todo.md"), "Open")
    assert desktop.opened == [QUrl.fromLocalFile(str(todo))]

    desktop.opened.clear()
    click_item(qtbot, file_menu(qtbot, window, "todo.md"), "Open Containing Folder")
    assert desktop.opened == [QUrl.fromLocalFile(str(todo.parent))]
    assert desktop.opened[0].toLocalFile() == str(sample_tree / "notes")


def test_the_tag_submenu_adds_and_removes_a_tag(
    window: Any, qtbot: QtBot, sample_tree: Path, run_async: Any
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "beach_sunset.jpg")
    tag_selection(qtbot, window, "holiday")

    tags = click_item(qtbot, file_menu(qtbot, window, "mountain_lake.jpg"), "Tag")
    assert tags is not None and tags.isVisible()
    holiday = next(a for a in tags.actions() if a.text() == "holiday")
    assert holiday.isCheckable() and not holiday.isChecked()
    with qtbot.waitSignal(window.tagging.changed, timeout=20_000):
        click_item(qtbot, tags, "holiday")
    wait_idle(qtbot, window)
    assert tags_of(window, "mountain_lake.jpg") == ("holiday",)
    assert window.sidebar_model.tag_count("holiday") == 2
    mountain = window.selected_records()[0]
    stored = run_async(window.services.library.get(mountain.id))
    assert stored.tags == ("holiday",)

    tags = click_item(qtbot, file_menu(qtbot, window, "mountain_lake.jpg"), "Tag")
    assert tags is not None
    assert next(a for a in tags.actions() if a.text() == "holiday").isChecked()
    with qtbot.waitSignal(window.tagging.changed, timeout=20_000):
        click_item(qtbot, tags, "holiday")
    wait_idle(qtbot, window)
    assert tags_of(window, "mountain_lake.jpg") == ()
    assert window.sidebar_model.tag_count("holiday") == 1
    click_file(qtbot, window, "beach_sunset.jpg")
    assert window.ui.detail.tags.tags == ("holiday",), "the other file keeps its tag"
