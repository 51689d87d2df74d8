"""Tagging as a user does it: the tag box, chips, drops on the sidebar, tag dialogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from filemeta_gui.ui.models.sidebar_model import ID_ROLE
from tests.ui.conftest import wait_idle, wait_scanned
from tests.ui.test_window_menus import click_item, right_click


def rows_named(window: Any, *wanted: str) -> list[int]:
    found = {window.model.record(r).filename: r for r in range(window.model.rowCount())}
    return [found[name] for name in wanted]


def select(window: Any, *wanted: str) -> None:
    table = window.ui.table
    table.clearSelection()
    selection = table.selectionModel()
    for row in rows_named(window, *wanted):
        selection.select(
            window.model.index(row, 0),
            selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
        )


def tag_selection(qtbot: QtBot, window: Any, name: str) -> None:
    edit = window.ui.detail.tags.edit
    edit.setFocus()
    qtbot.keyClicks(edit, name)
    with qtbot.waitSignal(window.tagging.changed, timeout=20_000):
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    wait_idle(qtbot, window)


def tags_of(window: Any, name: str) -> tuple[str, ...]:
    return window.model.record(rows_named(window, name)[0]).tags


def test_tagging_two_files_updates_the_counts(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "beach_sunset.jpg", "mountain_lake.jpg")

    tag_selection(qtbot, window, "holiday")
    assert window.sidebar_model.tag_count("holiday") == 2
    assert tags_of(window, "beach_sunset.jpg") == ("holiday",)
    assert tags_of(window, "mountain_lake.jpg") == ("holiday",)
    assert tags_of(window, "city_night.png") == ()

    select(window, "city_night.png")
    tag_selection(qtbot, window, "holiday")
    assert window.sidebar_model.tag_count("holiday") == 3

    select(window, "beach_sunset.jpg")
    chip = window.ui.detail.tags._flow.itemAt(0).widget()
    with qtbot.waitSignal(window.tagging.changed):
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert window.sidebar_model.tag_count("holiday") == 2
    assert tags_of(window, "beach_sunset.jpg") == ()


def test_the_tag_box_completes_existing_tags(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "todo.md")
    tag_selection(qtbot, window, "paperwork")
    completer = window.ui.detail.tags.completer
    completer.setCompletionPrefix("pap")
    assert completer.currentCompletion() == "paperwork"


def test_dropping_files_on_a_sidebar_tag_tags_them(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "todo.md")
    tag_selection(qtbot, window, "notes")
    select(window, "meeting_notes.txt", "pancakes.txt")
    mime = window.model.mimeData(window.ui.table.selectionModel().selectedRows())

    sidebar = window.ui.sidebar
    rect = sidebar.visualRect(window.sidebar_model.find_tag("notes"))
    drop = QDropEvent(
        QPointF(rect.center()),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.tagging.changed):
        sidebar.dropEvent(drop)
    wait_idle(qtbot, window)
    assert window.sidebar_model.tag_count("notes") == 3
    assert tags_of(window, "pancakes.txt") == ("notes",)


def test_renaming_a_tag(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "beach_sunset.jpg", "forest_path.jpg")
    tag_selection(qtbot, window, "holidy")
    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find_tag("holidy"))

    window.acts.rename_tag.trigger()
    dialog = window.tagging.dialog
    assert dialog.isVisible()
    dialog.name_edit.selectAll()
    qtbot.keyClicks(dialog.name_edit, "holiday")
    with qtbot.waitSignal(window.tagging.changed):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
        )
    wait_idle(qtbot, window)
    assert window.sidebar_model.tag_count("holidy") is None
    assert window.sidebar_model.tag_count("holiday") == 2
    assert tags_of(window, "forest_path.jpg") == ("holiday",)


def test_a_taken_name_cannot_be_chosen(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "todo.md")
    tag_selection(qtbot, window, "alpha")
    tag_selection(qtbot, window, "beta")
    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find_tag("beta"))
    dialog = window.tagging.ask_rename(window.tagging.selected_tag())
    dialog.name_edit.setText("Alpha")
    assert not dialog.ok_button.isEnabled()
    assert "already exists" in dialog.problem.text()
    dialog.reject()


def test_merging_and_deleting_tags(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "todo.md")
    tag_selection(qtbot, window, "docs")
    select(window, "meeting_notes.txt", "todo.md")
    tag_selection(qtbot, window, "documents")

    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find_tag("docs"))
    window.acts.merge_tags.trigger()
    dialog = window.tagging.dialog
    assert dialog.choose("documents")
    with qtbot.waitSignal(window.tagging.changed):
        dialog.accept()
    wait_idle(qtbot, window)
    assert window.sidebar_model.tag_count("docs") is None
    assert window.sidebar_model.tag_count("documents") == 2

    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find_tag("documents"))
    window.acts.delete_tag.trigger()
    box = window.tagging.dialog
    assert isinstance(box, QMessageBox)
    with qtbot.waitSignal(window.tagging.changed):
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert window.sidebar_model.tag_count("documents") is None
    assert tags_of(window, "todo.md") == ()


def test_searching_a_parent_tag_finds_files_of_its_children(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    select(window, "beach_sunset.jpg")
    tag_selection(qtbot, window, "beach")
    select(window, "mountain_lake.jpg")
    tag_selection(qtbot, window, "travel")

    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find_tag("beach"))
    window.acts.set_tag_parent.trigger()
    dialog = window.tagging.dialog
    assert dialog.choose("travel")
    with qtbot.waitSignal(window.tagging.changed):
        dialog.accept()
    wait_idle(qtbot, window)
    beach = window.sidebar_model.find_tag("beach")
    assert beach.parent() == window.sidebar_model.find_tag("travel")

    window.ui.sidebar.clicked.emit(window.sidebar_model.find_tag("travel"))
    wait_idle(qtbot, window)
    found = {window.model.record(r).filename for r in range(window.model.rowCount())}
    assert found == {"beach_sunset.jpg", "mountain_lake.jpg"}


def name_the_tag(qtbot: QtBot, window: Any, name: str) -> str:
    """Type ``name`` into the open New Tag dialog and press OK; returns the dialog's message."""
    dialog = window.tagging.dialog
    assert dialog is not None and dialog.isVisible() and dialog.windowTitle() == "New Tag"
    assert not dialog.ok_button.isEnabled(), "no name yet"
    message = str(dialog.message.text())  # read now: the dialog deletes itself on OK
    qtbot.keyClicks(dialog.name_edit, name)
    with qtbot.waitSignal(window.tagging.changed, timeout=20_000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    return message


def test_new_tag_and_new_child_tag_from_the_sidebar_menu(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    sidebar = window.ui.sidebar
    right_click(qtbot, sidebar, QPoint(20, sidebar.viewport().height() - 5))  # below the entries
    click_item(qtbot, window.menus.menu, "New Tag…")
    name_the_tag(qtbot, window, "projects")
    projects = window.sidebar_model.find_tag("projects")
    assert projects.isValid() and not projects.parent().data(ID_ROLE), "a top-level tag"

    right_click(qtbot, sidebar, sidebar.visualRect(projects).center())
    click_item(qtbot, window.menus.menu, "New Child Tag…")
    assert "under “projects”" in name_the_tag(qtbot, window, "garden")
    garden = window.sidebar_model.find_tag("garden")
    assert garden.parent() == window.sidebar_model.find_tag("projects")

    stored = {tag.name: tag for tag in run_async(window.services.tags.list())}
    assert stored["projects"].parent_id is None
    assert stored["garden"].parent_id == stored["projects"].id
