"""Tagging the selection, and creating, renaming, merging, deleting and nesting tags.

Attach and detach go to the services in one call for the whole selection (one
transaction); afterwards the file list and the tag counts are reloaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox

from filemeta_gui.domain.records import TagRecord
from filemeta_gui.ui.dialogs.tag_dialogs import TagChoiceDialog, TagNameDialog
from filemeta_gui.ui.formatting import count_noun
from filemeta_gui.ui.models.sidebar_model import ID_ROLE, KIND_ROLE, SidebarKind

if TYPE_CHECKING:
    from filemeta_gui.services.container import Services
    from filemeta_gui.ui.main_window import MainWindow

DialogT = TypeVar("DialogT", bound=QDialog)
Change = Callable[["Services"], Awaitable[object]]


class TagController(QObject):
    """Signals ``changed`` after any tag edit has been saved and the views reloaded."""

    changed = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QDialog | None = None
        a = window.acts
        a.new_tag.triggered.connect(lambda: self.ask_create())
        a.tag_selection.triggered.connect(self.focus_tag_box)
        a.rename_tag.triggered.connect(lambda: self._with_selected_tag(self.ask_rename))
        a.merge_tags.triggered.connect(lambda: self._with_selected_tag(self.ask_merge))
        a.delete_tag.triggered.connect(lambda: self._with_selected_tag(self.ask_delete))
        a.set_tag_parent.triggered.connect(lambda: self._with_selected_tag(self.ask_parent))
        editor = window.ui.detail.tags
        editor.tag_added.connect(lambda name: self.attach([name], self._selected_ids()))
        editor.tag_removed.connect(lambda name: self.detach([name], self._selected_ids()))
        window.ui.sidebar.files_dropped_on_tag.connect(lambda n, ids: self.attach([n], ids))

    @property
    def tags(self) -> list[TagRecord]:
        return self.window.sidebar_model.tags

    def set_known_tags(self, names: Iterable[str]) -> None:
        self.window.ui.detail.tags.set_known_tags(names)

    def selected_tag(self) -> TagRecord | None:
        index = self.window.ui.sidebar.currentIndex()
        if not index.isValid() or index.data(KIND_ROLE) != SidebarKind.TAG:
            return None
        return self.by_id(index.data(ID_ROLE))

    def by_id(self, tag_id: uuid.UUID) -> TagRecord | None:
        return next((tag for tag in self.tags if tag.id == tag_id), None)

    def focus_tag_box(self) -> None:
        if self.window.selected_count():
            self.window.acts.toggle_details.setChecked(True)
            self.window.ui.detail.tags.edit.setFocus()

    # --- applying ---------------------------------------------------------------------

    def attach(self, names: Sequence[str], file_ids: Sequence[uuid.UUID]) -> None:
        if names and file_ids:
            self._run(lambda s: s.tags.attach(names, file_ids))

    def detach(self, names: Sequence[str], file_ids: Sequence[uuid.UUID]) -> None:
        if names and file_ids:
            self._run(lambda s: s.tags.detach(names, file_ids))

    def create(self, name: str, parent_id: uuid.UUID | None = None) -> None:
        self._run(lambda s: s.tags.create(name, parent_id))

    def rename(self, tag_id: uuid.UUID, name: str) -> None:
        self._run(lambda s: s.tags.rename(tag_id, name))

    def merge(self, source_ids: Sequence[uuid.UUID], target_id: uuid.UUID) -> None:
        self._run(lambda s: s.tags.merge(source_ids, target_id))

    def delete(self, tag_id: uuid.UUID) -> None:
        self._run(lambda s: s.tags.delete(tag_id))

    def set_parent(self, tag_id: uuid.UUID, parent_id: uuid.UUID | None) -> None:
        self._run(lambda s: s.tags.set_parent(tag_id, parent_id))

    # --- dialogs ----------------------------------------------------------------------

    def ask_create(self, parent: TagRecord | None = None) -> TagNameDialog:
        where = f" under “{parent.name}”" if parent else ""
        dialog = TagNameDialog(
            "New Tag",
            f"Name of the new tag{where}:",
            taken=[t.name for t in self.tags],
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self.create(dialog.name, parent.id if parent else None))
        return self._open(dialog)

    def ask_rename(self, tag: TagRecord) -> TagNameDialog:
        dialog = TagNameDialog(
            "Rename Tag",
            f"New name for “{tag.name}”:",
            name=tag.name,
            taken=[t.name for t in self.tags],
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self.rename(tag.id, dialog.name))
        return self._open(dialog)

    def ask_merge(self, tag: TagRecord) -> TagChoiceDialog:
        message = (
            f"Merge “{tag.name}” into another tag: its "
            f"{count_noun(tag.file_count, 'file')} get that tag instead."
        )
        dialog = TagChoiceDialog("Merge Tag", message, self.tags, {tag.id}, parent=self.window)
        dialog.accepted.connect(lambda: self._merge_chosen(tag, dialog))
        return self._open(dialog)

    def _merge_chosen(self, tag: TagRecord, dialog: TagChoiceDialog) -> None:
        if dialog.chosen_id is not None:
            self.merge([tag.id], dialog.chosen_id)

    def ask_parent(self, tag: TagRecord) -> TagChoiceDialog:
        exclude = {tag.id, *self._descendants(tag.id)}
        dialog = TagChoiceDialog(
            "Set Parent Tag",
            f"Put “{tag.name}” under:",
            self.tags,
            exclude,
            allow_none=True,
            current=tag.parent_id,
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self.set_parent(tag.id, dialog.chosen_id))
        return self._open(dialog)

    def ask_delete(self, tag: TagRecord) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete Tag",
            f"Delete the tag “{tag.name}”?",
            parent=self.window,
        )
        box.setInformativeText(
            f"It is removed from {count_noun(tag.file_count, 'file')}; "
            "the files stay in the library."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self.delete(tag.id))
        return self._open(box)

    # --- helpers ----------------------------------------------------------------------

    def _open(self, dialog: DialogT) -> DialogT:
        self.dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _with_selected_tag(self, action: Callable[[TagRecord], object]) -> None:
        tag = self.selected_tag()
        if tag is not None:
            action(tag)

    def _descendants(self, tag_id: uuid.UUID) -> set[uuid.UUID]:
        found: set[uuid.UUID] = set()
        frontier = {tag_id}
        while frontier:
            children = {t.id for t in self.tags if t.parent_id in frontier} - found
            found |= children
            frontier = children
        return found

    def _selected_ids(self) -> list[uuid.UUID]:
        return [record.id for record in self.window.whole_selection("tag") or ()]

    def _run(self, change: Change) -> None:
        services = self.window.services
        if services is not None:
            self.window.tasks.start(self._apply(services, change))

    async def _apply(self, services: Services, change: Change) -> None:
        await change(services)
        self.window.model.reload(keep_rows=True)
        await self.window.reload_sidebar()
        self.changed.emit()
