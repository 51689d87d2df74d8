"""What can be done with the selected files: open, reveal, copy path, tag, remove (undo).

Removing only takes files out of the library (a soft delete the services can undo);
nothing on disk changes, so it needs no confirmation, and Undo brings the files back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QMenu

from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui.formatting import count_noun
from filemeta_gui.ui.resources import icon

if TYPE_CHECKING:
    from filemeta_gui.ui.main_window import MainWindow

MAX_TAGS_IN_MENU = 15


class FileActions(QObject):
    """Signals ``removed(count)`` after files left the library, ``restored(count)`` on undo."""

    removed = Signal(int)
    restored = Signal(int)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.menu: QMenu | None = None
        self._last_removed: list[uuid.UUID] = []
        a = window.acts
        a.open_file.triggered.connect(self.open_selected)
        a.reveal_file.triggered.connect(self.reveal_selected)
        a.copy_path.triggered.connect(self.copy_paths)
        a.remove_files.triggered.connect(self.remove_selected)
        a.undo_remove.triggered.connect(self.undo_remove)
        a.undo_remove.setEnabled(False)
        views: tuple[QAbstractItemView, ...] = (window.ui.table, window.ui.grid)
        for view in views:
            view.addActions([a.open_file, a.remove_files])
            view.doubleClicked.connect(lambda _index: self.open_selected())
            view.customContextMenuRequested.connect(
                lambda pos, v=view: self.show_context_menu(v, pos)
            )
        window.ui.detail.open_requested.connect(self.open_selected)
        window.ui.detail.reveal_requested.connect(self.reveal_selected)
        self.update_enabled([])

    def update_enabled(self, records: Sequence[FileRecord]) -> None:
        a = self.window.acts
        for action in (a.open_file, a.reveal_file, a.copy_path, a.remove_files, a.tag_selection):
            action.setEnabled(bool(records))

    # --- commands ---------------------------------------------------------------------

    def open_selected(self) -> None:
        for record in self.window.selected_records()[:10]:  # never launch hundreds of apps
            QDesktopServices.openUrl(QUrl.fromLocalFile(record.os_path))

    def reveal_selected(self) -> None:
        folders = {os.path.dirname(r.os_path) for r in self.window.selected_records()}
        for folder in sorted(folders)[:10]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def copy_paths(self) -> None:
        paths = [record.file_path for record in self.window.selected_records()]
        if paths:
            QGuiApplication.clipboard().setText("\n".join(paths))
            self.window.statusBar().showMessage(f"Copied {count_noun(len(paths), 'path')}.", 4000)

    def remove_selected(self) -> None:
        records = self.window.whole_selection("remove")
        ids = [record.id for record in records or ()]
        if ids and self.window.services is not None:
            self.window.tasks.start(self._remove(ids))

    def undo_remove(self) -> None:
        if self._last_removed and self.window.services is not None:
            self.window.tasks.start(self._restore(list(self._last_removed)))

    # --- the context menu -------------------------------------------------------------

    def show_context_menu(self, view: QAbstractItemView, pos: QPoint) -> QMenu | None:
        if not view.indexAt(pos).isValid():
            return None
        menu = self.build_context_menu()
        self.menu = menu
        menu.popup(view.viewport().mapToGlobal(pos))
        return menu

    def build_context_menu(self) -> QMenu:
        a = self.window.acts
        records = self.window.selected_records()
        menu = QMenu(self.window)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addActions([a.open_file, a.reveal_file, a.copy_path])
        menu.addSeparator()
        tags = menu.addMenu(self._tag_menu(menu, records))
        # Not every selected file is loaded (a huge selection): tagging only some, no.
        tags.setEnabled(len(records) == self.window.selected_count())
        menu.addSeparator()
        menu.addAction(a.remove_files)
        return menu

    def _tag_menu(self, parent: QMenu, records: Sequence[FileRecord]) -> QMenu:
        menu = QMenu("Tag", parent)
        menu.setIcon(icon("tag"))
        tags = sorted(self.window.sidebar_model.tags, key=lambda t: -t.file_count)
        ids = [record.id for record in records]
        for tag in sorted(tags[:MAX_TAGS_IN_MENU], key=lambda t: t.name.lower()):
            action = menu.addAction(tag.name)
            action.setCheckable(True)
            action.setChecked(bool(records) and all(tag.name in r.tags for r in records))
            action.toggled.connect(
                lambda on, name=tag.name: (
                    self.window.tagging.attach if on else self.window.tagging.detach
                )([name], ids)
            )
        if tags:
            menu.addSeparator()
        menu.addAction(self.window.acts.tag_selection)
        return menu

    # --- work -------------------------------------------------------------------------

    async def _remove(self, ids: list[uuid.UUID]) -> None:
        services = self.window.services
        assert services is not None
        count = await services.library.remove(ids)
        self._last_removed = ids
        self.window.acts.undo_remove.setEnabled(True)
        self.window.refresh()
        shortcut = self.window.acts.undo_remove.shortcut().toString()
        self.window.statusBar().showMessage(
            f"Removed {count_noun(count, 'file')} from the library. Undo: {shortcut}.", 10000
        )
        self.removed.emit(count)

    async def _restore(self, ids: list[uuid.UUID]) -> None:
        services = self.window.services
        assert services is not None
        count = await services.library.restore(ids)
        self._last_removed = []
        self.window.acts.undo_remove.setEnabled(False)
        self.window.refresh()
        self.window.statusBar().showMessage(
            f"Restored {count_noun(count, 'file')} to the library.", 6000
        )
        self.restored.emit(count)
