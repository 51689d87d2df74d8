"""Browsing: scan a folder and see its rows, pages, sorting in SQL, views, details."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtWidgets import QToolButton
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.ui.formatting import full_time
from filemeta_gui.ui.models.file_columns import SIZE
from tests.ui.conftest import wait_idle, wait_scanned
from tests.ui.library import PICTURES, TEXTS
from tests.ui.test_tags import tag_selection

SWATCH = (30, 200, 90)


def names(window: Any) -> list[str]:
    return [window.model.record(row).filename for row in range(window.model.rowCount())]


def expected_names() -> set[str]:
    return {Path(name).name for name in [*PICTURES, *TEXTS]}


def click_file(qtbot: QtBot, window: Any, name: str) -> None:
    """Click the file's row in the list (it becomes the only selected file)."""
    table = window.ui.table
    rect = table.visualRect(window.model.index(names(window).index(name), 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [r.filename for r in window.selected_records()] == [name]


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
    started = datetime.now(UTC).replace(microsecond=0)
    wait_scanned(qtbot, window, sample_tree)
    click_file(qtbot, window, "report_2024.pdf")
    tag_selection(qtbot, window, "paperwork")
    on_disk = sample_tree / "report_2024.pdf"
    record = window.model.record(names(window).index("report_2024.pdf"))

    detail = window.ui.detail
    shown = {name: label.text() for name, label in detail.values.items() if label.isVisible()}
    assert detail.title.text() == "report_2024.pdf"
    assert shown["Path"] == str(on_disk)
    assert shown["Folder"] == str(sample_tree)
    assert f"{on_disk.stat().st_size:,} bytes" in shown["Size"]
    assert shown["Type"] == "application/pdf"
    assert shown["Modified"] == full_time(datetime.fromtimestamp(on_disk.stat().st_mtime, UTC))
    indexed = datetime.strptime(shown["Indexed"], "%Y-%m-%d %H:%M:%S %z")
    assert started <= indexed <= datetime.now(UTC), "indexed during this test"
    assert shown["SHA-256"].replace(" ", "") == hashlib.sha256(on_disk.read_bytes()).hexdigest()
    me = window.services.identity.user
    assert me is not None and record.owner_id == me.id
    assert shown["Owner"] == (f"You ({me.login})" if me.login else "You")
    assert shown["Access"] == "Full"
    assert shown["File ID"] == str(record.id)
    assert detail.names["Tags"].isVisible()
    assert detail.tags.tags == ("paperwork",)
    chips = detail.tags.findChildren(QToolButton, "tagChip")
    assert [chip.text() for chip in chips if chip.isVisible()] == ["paperwork  ✕"]


def test_the_preview_shows_a_picture_s_thumbnail(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    Image.new("RGB", (64, 48), SWATCH).save(sample_tree / "swatch.png")
    wait_scanned(qtbot, window, sample_tree)
    preview = window.ui.detail.preview

    click_file(qtbot, window, "report_2024.pdf")
    assert not _shows(preview, SWATCH), "a document shows its type icon"
    click_file(qtbot, window, "swatch.png")
    qtbot.waitUntil(lambda: _shows(preview, SWATCH), timeout=10_000)


def _shows(preview: Any, colour: tuple[int, int, int]) -> bool:
    """True when the preview's centre pixel has ``colour`` (a thumbnail, not an icon)."""
    pixmap = preview.pixmap()
    if pixmap.isNull():
        return False
    image = pixmap.toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    found = (centre.red(), centre.green(), centre.blue())
    return all(abs(a - b) <= 8 for a, b in zip(found, colour, strict=True))


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
