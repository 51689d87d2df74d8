"""The windows and dock opened from the main window, and saved searches in the sidebar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from filemeta_gui.ui.models.sidebar_model import SidebarKind
from tests.ui.conftest import run, wait_idle, wait_scanned


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
