"""Browsing: scan a folder and see its rows, pages, sorting in SQL, views, details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.ui.models.file_columns import SIZE
from tests.ui.conftest import wait_idle, wait_scanned
from tests.ui.library import PICTURES, TEXTS


def names(window: Any) -> list[str]:
    return [window.model.record(row).filename for row in range(window.model.rowCount())]


def expected_names() -> set[str]:
    return {Path(name).name for name in [*PICTURES, *TEXTS]}


def test_scanning_a_folder_shows_its_files(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)

    assert set(names(window)) == expected_names()
    assert window.ui.page == "table"
    assert window.model.total == len(expected_names())
    assert f"{len(expected_names())} files" in window.count_label.text()
    folder = window.sidebar_model.folders[0]
    assert folder.path == str(sample_tree)
    assert folder.file_count == len(expected_names())


def test_dropping_a_folder_on_the_window_adds_and_scans_it(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_tree))])
    drop = QDropEvent(
        QPointF(400, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.scan.scan_finished, timeout=60_000):
        window.dropEvent(drop)
    wait_idle(qtbot, window)
    assert drop.isAccepted()
    assert set(names(window)) == expected_names()


def test_clicking_a_header_sorts_in_sql(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    header = window.ui.table.horizontalHeader()

    with qtbot.waitSignal(window.model.query_applied):
        qtbot.mouseClick(
            header.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(header.sectionViewportPosition(SIZE) + 10, 5),
        )
    sizes = [window.model.record(r).file_size for r in range(window.model.rowCount())]
    assert window.model.sort_column == SortColumn.SIZE
    assert sizes == sorted(sizes)

    with qtbot.waitSignal(window.model.query_applied):
        qtbot.mouseClick(
            header.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(header.sectionViewportPosition(SIZE) + 10, 5),
        )
    sizes = [window.model.record(r).file_size for r in range(window.model.rowCount())]
    assert sizes == sorted(sizes, reverse=True)


def test_selecting_a_file_shows_every_field(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    row = names(window).index("report_2024.pdf")
    record = window.model.record(row)
    window.ui.table.selectRow(row)

    detail = window.ui.detail
    assert detail.title.text() == "report_2024.pdf"
    assert detail.values["Path"].text() == str(sample_tree / "report_2024.pdf")
    assert f"{record.file_size:,} bytes" in detail.values["Size"].text()
    assert detail.values["Type"].text() == "application/pdf"
    assert detail.values["File ID"].text() == str(record.id)


def test_the_grid_shows_the_same_rows_and_selection(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.ui.table.selectRow(2)
    window.acts.view_grid.trigger()

    assert window.ui.page == "grid"
    assert window.ui.grid.model() is window.model
    assert window.ui.grid.selectionModel().isRowSelected(2)
    picture = names(window).index("beach_sunset.jpg")
    qtbot.waitUntil(lambda: window.thumbnails.icon(window.model.record(picture)) is not None)
    window.acts.view_table.trigger()
    assert window.ui.page == "table"


def test_delete_removes_from_the_library_and_undo_brings_back(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    row = names(window).index("todo.md")
    table = window.ui.table
    table.setFocus()
    table.selectRow(row)

    with qtbot.waitSignal(window.files.removed):
        qtbot.keyClick(table, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    assert "todo.md" not in names(window)
    assert (sample_tree / "notes" / "todo.md").exists(), "removal never touches the disk"

    with qtbot.waitSignal(window.files.restored):
        window.acts.undo_remove.trigger()
    wait_idle(qtbot, window)
    assert "todo.md" in names(window)


def test_context_menu_offers_the_file_actions(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.ui.table.selectRow(0)
    menu = window.files.build_context_menu()
    texts = [action.text() for action in menu.actions() if action.text()]
    assert texts[:3] == ["Open", "Open Containing Folder", "Copy Path"]
    assert "Tag" in texts and "Remove from Library" in texts
    window.acts.copy_path.trigger()

    assert QGuiApplication.clipboard().text() == window.model.record(0).file_path
    menu.close()
