"""The windows and dock opened from the main window, saved searches in the sidebar, and
the menu shortcuts pressed as keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QMenu
from pytestqt.qtbot import QtBot

from filemeta_gui.ui.models.sidebar_model import SidebarKind
from tests.ui.conftest import run, wait_idle, wait_scanned


def right_click(qtbot: QtBot, view: QAbstractItemView, pos: QPoint) -> None:
    """A right click as the platform delivers it: the press, then a context-menu event
    (QTest's mouse events never make the second)."""
    viewport = view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
    QApplication.sendEvent(viewport, event)


def click_item(qtbot: QtBot, menu: QMenu, text: str) -> QMenu | None:
    """Click the enabled item ``text`` of an open menu; returns its submenu if it has one."""
    action = next(a for a in menu.actions() if a.text() == text)
    assert action.isEnabled() and action.isVisible(), f"{text} cannot be clicked"
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    submenu = action.menu()
    if submenu is not None:
        qtbot.waitUntil(submenu.isVisible, timeout=2_000)  # QMenu pops it up on a timer
    return submenu


def pick_folder(qtbot: QtBot, window: Any, folder: Path) -> None:
    """Paste ``folder`` into the open "Add a Folder" dialog, press Return, wait for the scan."""
    dialog = window.scan.dialog
    assert dialog is not None and dialog.isVisible()
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    name.clear()
    # Pasted: typed letter by letter, the dialog's completer picks folders meanwhile.
    QGuiApplication.clipboard().setText(str(folder))
    qtbot.keySequence(name, QKeySequence.StandardKey.Paste)
    with qtbot.waitSignal(window.scan.scan_finished, timeout=60_000):
        qtbot.keyClick(name, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert not dialog.isVisible()


def some_files(folder: Path) -> set[str]:
    """A new folder with three small files; returns their names."""
    folder.mkdir()
    for name in ("alpha.txt", "beta.csv", "gamma.md"):
        (folder / name).write_text(f"{name}\n", encoding="utf-8")
    return {"alpha.txt", "beta.csv", "gamma.md"}


def shown_names(window: Any) -> set[str]:
    return {window.model.record(row).filename for row in range(window.model.rowCount())}


def test_ctrl_o_asks_for_a_folder_and_scans_it(window: Any, qtbot: QtBot, tmp_path: Path) -> None:
    added = some_files(tmp_path / "added")
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    pick_folder(qtbot, window, tmp_path / "added")

    assert shown_names(window) == added
    assert window.ui.page == "table"
    assert [f.path for f in window.sidebar_model.folders] == [str(tmp_path / "added")]


def test_saving_a_search_adds_it_to_the_sidebar(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.search.set_text("type:image -copy")
    wait_idle(qtbot, window)

    window.acts.save_search.trigger()
    dialog = window.menus.dialog
    dialog.setTextValue("Photos")
    with qtbot.waitSignal(window.sidebar_refreshed):
        dialog.accept()
    wait_idle(qtbot, window)
    saved = window.sidebar_model.find(SidebarKind.SAVED)
    assert saved.data() == "Photos"

    window.search.set_text("")
    wait_idle(qtbot, window)
    window.ui.sidebar.clicked.emit(saved)
    wait_idle(qtbot, window)
    assert window.search.text == "type:image -copy"
    assert window.model.rowCount() == 4


def test_the_duplicates_entry_opens_the_duplicates_view(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.ui.sidebar.clicked.emit(window.sidebar_model.find(SidebarKind.DUPLICATES))
    dialog = window.menus.duplicates
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.view.model.rowCount() == 1, timeout=20_000)
    group = dialog.view.model.groups[0]
    assert {c.file.filename for c in group.copies} == {"beach_sunset.jpg", "beach_sunset_copy.jpg"}
    dialog.reject()
    wait_idle(qtbot, window)


def test_the_database_panel_docks_and_undocks(window: Any, qtbot: QtBot) -> None:
    window.acts.database_panel.trigger()
    panel = window.menus.db_panel
    assert panel is not None and panel.isVisible()
    window.acts.database_panel.trigger()
    assert not panel.isVisible()


def test_the_panel_and_the_duplicates_query_through_the_windows_tasks(
    window: Any, qtbot: QtBot
) -> None:
    """So closing the window cancels their queries. Each kept a registry of its own when
    the window's was empty (an empty registry is falsy): the panel's server query ran on
    past the window's end, and its connection was collected without being returned."""
    window.acts.database_panel.trigger()
    assert window.tasks.running("panel-server")
    window.acts.database_panel.trigger()
    window.acts.duplicates.trigger()
    assert window.tasks.running("duplicates-load")
    window.menus.duplicates.reject()


def test_switching_library_closes_the_previous_one(
    window: Any, qtbot: QtBot, qloop: Any, tmp_path: Path
) -> None:
    from filemeta_gui.services.container import Services

    previous = window.services
    other = run(qtbot, qloop, Services.open(f"sqlite:///{tmp_path / 'other.sqlite3'}"))
    run(qtbot, qloop, window.attach(other))
    wait_idle(qtbot, window)
    assert window.services is other
    assert "other.sqlite3" in window.library_label.text()
    assert previous.database.engine.pool.checkedout() == 0


def test_file_connect_opens_the_connect_dialog(window: Any, qtbot: QtBot) -> None:
    window.acts.connect.trigger()
    dialog = window.menus.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.objectName() == "connectDialog"
    dialog.reject()
