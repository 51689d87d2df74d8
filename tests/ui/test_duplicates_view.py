"""The Duplicates view over a real scanned folder: the expected groups, thumbnails, rules,
removal from the library and to the trash, and the last copy that can never go."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.removal import RemovalMode
from filemeta_gui.services.container import Services
from filemeta_gui.ui.dialogs import duplicates_view
from filemeta_gui.ui.dialogs.duplicate_rules import KeepRule
from filemeta_gui.ui.dialogs.duplicates_model import LAST_COPY_MESSAGE, NAME
from filemeta_gui.ui.dialogs.duplicates_view import DuplicatesView
from filemeta_gui.ui.errors import ErrorHandler
from filemeta_gui.ui.formatting import human_size

RED = (220, 20, 30)
PNG_COPIES = ("photos/sunset.png", "backup/2023/sunset.png", "old/archive/sunset-copy.png")
TXT_COPIES = ("docs/report.txt", "docs/drafts/report (copy).txt")


def make_tree(root: Path) -> Path:
    """Three copies of a red picture, two copies of a text, one unique file."""
    for name in (*PNG_COPIES, *TXT_COPIES, "docs/unique.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (300, 200), RED).save(root / PNG_COPIES[0])
    for copy in PNG_COPIES[1:]:
        (root / copy).write_bytes((root / PNG_COPIES[0]).read_bytes())
    for copy in TXT_COPIES:
        (root / copy).write_text("Quarterly report, final version.\n" * 200, encoding="utf-8")
    (root / "docs/unique.txt").write_text("only one of me", encoding="utf-8")
    for age, name in enumerate((*PNG_COPIES, *TXT_COPIES)):  # the first listed is newest
        stamp = 1_700_000_000 - age * 86_400
        os.utime(root / name, (stamp, stamp))
    return root


async def open_and_scan(url: str, folder: Path) -> Services:
    services = await Services.open(url)
    added = await services.folders.add(str(folder))
    async for _progress in services.folders.scan(added.id):
        pass
    return services


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "library")


@pytest.fixture
def services(db_url: str, tree: Path, run_async: Any) -> Iterator[Services]:
    opened: Services = run_async(open_and_scan(db_url, tree), timeout=120_000)
    yield opened
    run_async(opened.close())


@pytest.fixture
def view(qtbot: QtBot, services: Services) -> Iterator[DuplicatesView]:
    widget = DuplicatesView(services.duplicates)
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=30_000):
        widget.refresh()
    yield widget
    widget.shutdown()
    qtbot.waitUntil(lambda: not widget.busy)


@pytest.fixture
def errors(qtbot: QtBot, qasync_loop: Any) -> Iterator[ErrorHandler]:
    handler = ErrorHandler()
    handler.install(qasync_loop)
    yield handler
    if handler.dialog is not None:
        handler.dialog.close()
    handler.uninstall()


def copy_paths(view: DuplicatesView, row: int) -> list[str]:
    return [c.file.file_path for c in view.model.groups[row].copies]


def group_row(view: DuplicatesView, suffix: str) -> int:
    return next(
        r for r, g in enumerate(view.model.groups) if g.copies[0].file.filename.endswith(suffix)
    )


def toggle_keep(qtbot: QtBot, view: DuplicatesView, row: int, copy: int) -> None:
    """Select a copy in the tree and press Space, as a keyboard user toggles its box."""
    index = view.model.index(copy, NAME, view.model.index(row, 0))
    view.tree.setCurrentIndex(index)
    qtbot.keyClick(view.tree, Qt.Key.Key_Space)


def confirm(qtbot: QtBot, view: DuplicatesView, mode: RemovalMode) -> str:
    """Press the remove button, read the confirmation, accept it, wait for the removal."""
    button = view.trash_button if mode is RemovalMode.TRASH else view.remove_library_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    box = view.confirm_box
    assert box is not None and box.isVisible()
    question = f"{box.text()} {box.informativeText()}"
    destructive = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        qtbot.mouseClick(destructive, Qt.MouseButton.LeftButton)
    return question


def test_shows_the_expected_groups_with_thumbnails(
    qtbot: QtBot, view: DuplicatesView, tree: Path
) -> None:
    model = view.model
    assert model.rowCount() == 2
    png = model.groups[group_row(view, ".png")]
    txt = model.groups[group_row(view, ".txt")]
    assert model.groups[0].reclaimable >= model.groups[1].reclaimable, "biggest win first"
    png_size = (tree / PNG_COPIES[0]).stat().st_size
    txt_size = (tree / TXT_COPIES[0]).stat().st_size
    assert (png.count, png.size, png.reclaimable) == (3, png_size, 2 * png_size)
    assert (txt.count, txt.size, txt.reclaimable) == (2, txt_size, txt_size)
    assert sorted(c.file.file_path for c in png.copies) == sorted(str(tree / p) for p in PNG_COPIES)
    assert sorted(c.file.file_path for c in txt.copies) == sorted(str(tree / p) for p in TXT_COPIES)
    assert view.summary_label.text().startswith("2 groups · 5 copies · ")
    assert view.summary_label.text().endswith(" reclaimable")
    png_row = group_row(view, ".png")
    assert model.index(2, NAME, model.index(png_row, 0)).data(Qt.ItemDataRole.CheckStateRole) == (
        Qt.CheckState.Checked
    ), "everything is kept until the user decides"
    assert not view.remove_library_button.isEnabled()

    # The picture's thumbnail replaces the type icon once the executor has made it.
    first = png.copies[0].file
    qtbot.waitUntil(lambda: view.thumbnails.get(first) is not None, timeout=10_000)
    icon = model.index(png_row, NAME).data(Qt.ItemDataRole.DecorationRole)
    centre = icon.pixmap(32, 32).toImage().pixelColor(16, 16)
    assert (centre.red(), centre.green(), centre.blue()) == pytest.approx(RED, abs=8)


def test_remove_one_copy_from_the_library(
    qtbot: QtBot, view: DuplicatesView, services: Services, tree: Path, run_async: Any
) -> None:
    row = group_row(view, ".png")
    gone = copy_paths(view, row)[0]
    toggle_keep(qtbot, view, row, 0)
    assert view.model.marked_for_removal()[0].file_path == gone
    assert view.plan_label.text().startswith("1 copy marked for removal · frees ")

    question = confirm(qtbot, view, RemovalMode.LIBRARY)

    size = (tree / PNG_COPIES[0]).stat().st_size
    assert f"Remove 1 copy ({human_size(size)}) from the library?" in question
    assert "stay on disk" in question
    remaining = [p for r in range(view.model.rowCount()) for p in copy_paths(view, r)]
    assert gone not in remaining and len(remaining) == 4
    groups = run_async(services.duplicates.groups())
    assert gone not in {c.file.file_path for g in groups for c in g.copies}
    assert Path(gone).exists(), "removing from the library leaves the file on disk"


def test_rule_then_move_to_trash(
    qtbot: QtBot,
    view: DuplicatesView,
    services: Services,
    tree: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_async: Any,
) -> None:
    import send2trash.plat_other as trash

    home_trash = tmp_path / "xdg" / "Trash"  # never the real user's trash
    monkeypatch.setattr(trash, "XDG_DATA_HOME", os.fsencode(tmp_path / "xdg"))
    monkeypatch.setattr(trash, "HOMETRASH_B", os.fsencode(home_trash))

    view.rule_combo.setCurrentIndex(view.rule_combo.findData(KeepRule.SHORTEST_PATH))
    qtbot.mouseClick(view.apply_all_button, Qt.MouseButton.LeftButton)
    marked = {r.file_path for r in view.model.marked_for_removal()}
    assert marked == {str(tree / p) for p in (PNG_COPIES[1], PNG_COPIES[2], TXT_COPIES[1])}

    question = confirm(qtbot, view, RemovalMode.TRASH)

    assert question.startswith("Move 3 copies (")
    assert "frees" in question and "once the trash is emptied" in question
    assert view.model.rowCount() == 0
    assert view.summary_label.text() == "No duplicates found"
    assert not any(Path(p).exists() for p in marked)
    assert len(list((home_trash / "files").iterdir())) == 3
    assert (tree / PNG_COPIES[0]).exists() and (tree / TXT_COPIES[0]).exists()
    assert run_async(services.duplicates.groups()) == []


class FolderPicker:
    """Stands in for ``QFileDialog.getExistingDirectory``: answers, and records each ask."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.asked_from: list[str] = []

    def getExistingDirectory(self, _parent: Any, _title: str, start: str = "") -> str:
        self.asked_from.append(start)
        return self.answers.pop(0)


def test_keep_the_copies_inside_a_folder_chosen_in_the_picker(
    qtbot: QtBot, view: DuplicatesView, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picker = FolderPicker()
    monkeypatch.setattr(duplicates_view, "QFileDialog", picker)
    view.rule_combo.setCurrentIndex(view.rule_combo.findData(KeepRule.IN_FOLDER))

    picker.answers.append("")  # the user cancels the picker: nothing changes
    qtbot.mouseClick(view.apply_all_button, Qt.MouseButton.LeftButton)
    assert view.model.marked_for_removal() == []

    picker.answers.append(str(tree / "backup"))
    qtbot.mouseClick(view.apply_all_button, Qt.MouseButton.LeftButton)
    kept = [
        c.file.file_path
        for g in view.model.groups
        for c in g.copies
        if view.model.is_kept(c.file.id)
    ]
    assert str(tree / PNG_COPIES[1]) in kept
    assert {r.file_path for r in view.model.marked_for_removal()} == {
        str(tree / PNG_COPIES[0]),
        str(tree / PNG_COPIES[2]),
    }, "only the picture has a copy in backup/; the text is left alone"
    assert view.plan_label.text().startswith("2 copies marked for removal")

    picker.answers.append(str(tree / "nowhere"))  # the picker opens where it was left
    qtbot.mouseClick(view.apply_all_button, Qt.MouseButton.LeftButton)
    assert picker.asked_from == ["", "", str(tree / "backup")]
    assert view.notice_label.text() == f"No copy lies inside {tree / 'nowhere'}: nothing changed."
    assert len(view.model.marked_for_removal()) == 2


def test_the_last_copy_can_never_be_removed(
    qtbot: QtBot,
    view: DuplicatesView,
    services: Services,
    errors: ErrorHandler,
    run_async: Any,
) -> None:
    row = group_row(view, ".txt")
    group = view.model.groups[row]
    toggle_keep(qtbot, view, row, 0)
    toggle_keep(qtbot, view, row, 1)  # the last kept copy: the view refuses

    copy_index = view.model.index(1, NAME, view.model.index(row, 0))
    assert copy_index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert view.notice_label.text() == LAST_COPY_MESSAGE
    assert len(view.model.marked_for_removal()) == 1

    # Even asked directly (a stale window, another client), the service refuses.
    every_copy = [c.file.id for c in group.copies]
    with qtbot.waitSignal(errors.shown, timeout=30_000) as shown:
        view.remove_marked(every_copy, RemovalMode.LIBRARY)
    assert "keep at least one copy" in shown.args[0]
    assert "Nothing was removed" in shown.args[0]
    still = run_async(services.duplicates.groups())
    assert {c.file.id for g in still for c in g.copies} >= set(every_copy)


def test_keep_everything_clears_the_marks(qtbot: QtBot, view: DuplicatesView) -> None:
    view.apply_rule(KeepRule.NEWEST)
    assert len(view.model.marked_for_removal()) == 3
    assert view.remove_library_button.isEnabled() and view.trash_button.isEnabled()
    qtbot.mouseClick(view.keep_all_button, Qt.MouseButton.LeftButton)
    assert view.model.marked_for_removal() == []
    assert not view.remove_library_button.isEnabled()
    assert view.model.parent(QModelIndex()) == QModelIndex()


def test_the_largest_groups_come_first_and_more_on_demand(
    qtbot: QtBot, services: Services, monkeypatch: pytest.MonkeyPatch, run_async: Any
) -> None:
    """A big library has tens of thousands of groups: the view loads a page of them, the
    ones that free the most space, and says how many there are in all."""
    monkeypatch.setattr(duplicates_view, "GROUPS_SHOWN", 1)
    widget = DuplicatesView(services.duplicates)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=30_000):
        widget.refresh()
    assert widget.model.rowCount() == 1
    every = run_async(services.duplicates.groups())
    assert every[0].reclaimable > every[1].reclaimable
    assert widget.model.groups[0].hash_value == every[0].hash_value, "the one freeing the most"
    assert widget.summary_label.text().startswith("The 1 group freeing the most, of 2 · ")
    assert widget.more_button.isVisible() and widget.more_button.text() == "Show 1 more"
    toggle_keep(qtbot, widget, 0, 0)
    marked = widget.model.marked_for_removal()

    with qtbot.waitSignal(widget.loaded, timeout=30_000):
        qtbot.mouseClick(widget.more_button, Qt.MouseButton.LeftButton)
    assert widget.model.rowCount() == 2
    assert widget.model.marked_for_removal() == marked, "marks survive loading more"
    assert widget.summary_label.text().startswith("2 groups · 5 copies · ")
    assert not widget.more_button.isVisible()
    widget.shutdown()
    qtbot.waitUntil(lambda: not widget.busy)
