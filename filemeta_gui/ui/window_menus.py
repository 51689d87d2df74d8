"""The sidebar's context menu and the windows opened from the menus.

The duplicates view, the Connect dialog and the database panel are built elsewhere
(``ui/dialogs/duplicates_view.py``, ``ui/dialogs/connect_dialog.py``,
``ui/widgets/db_panel.py``); they are imported when first opened, so the main window
starts fast and does not depend on them being importable.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QLineEdit, QMenu, QMessageBox

from filemeta_gui import __version__
from filemeta_gui.ui.models.sidebar_model import ID_ROLE, KIND_ROLE, SidebarKind
from filemeta_gui.ui.resources import icon

if TYPE_CHECKING:
    from filemeta_gui.ui.main_window import MainWindow


class WindowMenus(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.menu: QMenu | None = None
        self.dialog: QDialog | None = None
        self.duplicates: Any = None
        self.db_panel: Any = None
        a = window.acts
        a.duplicates.triggered.connect(self.show_duplicates)
        a.connect.triggered.connect(self.show_connect)
        a.database_panel.toggled.connect(self.toggle_database_panel)
        a.about.triggered.connect(self.show_about)
        a.save_search.triggered.connect(lambda: self.ask_save_search(window.search.text))
        window.search.save_requested.connect(self.ask_save_search)
        window.ui.sidebar.customContextMenuRequested.connect(self.show_sidebar_menu)

    # --- sidebar ----------------------------------------------------------------------

    def show_sidebar_menu(self, pos: QPoint) -> QMenu | None:
        menu = self.build_sidebar_menu(self.window.ui.sidebar.indexAt(pos))
        if menu is not None:
            self.menu = menu
            menu.popup(self.window.ui.sidebar.viewport().mapToGlobal(pos))
        return menu

    def build_sidebar_menu(self, index: Any) -> QMenu | None:
        w, a = self.window, self.window.acts
        kind = index.data(KIND_ROLE) if index.isValid() else None
        menu = QMenu(w)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if kind == SidebarKind.FOLDER:
            w.ui.sidebar.setCurrentIndex(index)
            menu.addActions([a.rescan, a.remove_folder])
        elif kind == SidebarKind.TAG:
            w.ui.sidebar.setCurrentIndex(index)
            tag = w.tagging.selected_tag()
            child = menu.addAction(icon("tag"), "New Child Tag…")
            child.triggered.connect(lambda: w.tagging.ask_create(tag))
            menu.addActions([a.rename_tag, a.set_tag_parent, a.merge_tags, a.delete_tag])
        elif kind == SidebarKind.SAVED:
            search_id = index.data(ID_ROLE)
            delete = menu.addAction("Delete Saved Search")
            delete.triggered.connect(lambda: self.delete_saved_search(search_id))
        else:
            menu.addActions([a.add_folder, a.new_tag])
        return menu

    # --- saved searches ---------------------------------------------------------------

    def ask_save_search(self, query: str) -> QInputDialog | None:
        if not query or self.window.services is None:
            return None
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Save Search")
        dialog.setLabelText(f"Name for the search “{query}”:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(query)
        dialog.textValueSelected.connect(lambda name: self.save_search(name, query))
        self.dialog = dialog
        dialog.open()
        return dialog

    def save_search(self, name: str, query: str) -> None:
        services = self.window.services
        if services is not None and name.strip():
            self.window.tasks.start(self._change(services.saved_searches.save(name.strip(), query)))

    def delete_saved_search(self, search_id: uuid.UUID) -> None:
        services = self.window.services
        if services is not None:
            self.window.tasks.start(self._change(services.saved_searches.delete(search_id)))

    async def _change(self, work: Any) -> None:
        await work
        await self.window.reload_sidebar()

    # --- other windows ----------------------------------------------------------------

    def show_duplicates(self) -> None:
        """Library > Find Duplicates: the duplicates view in its own window."""
        services = self.window.services
        if services is None:
            return
        from filemeta_gui.ui.dialogs.duplicates_view import DuplicatesDialog

        if self.duplicates is None:
            dialog = DuplicatesDialog(
                services.duplicates,
                self.window,
                tasks=self.window.tasks,
                thumbnails=self.window.thumbnails,
            )
            dialog.view.library_changed.connect(lambda: self.window.refresh())
            dialog.finished.connect(self._duplicates_closed)
            self.duplicates = dialog
        self.duplicates.show()
        self.duplicates.raise_()

    def _duplicates_closed(self) -> None:
        if self.duplicates is not None:
            self.duplicates.deleteLater()
        self.duplicates = None

    def show_connect(self) -> None:
        """File > Connect…: on success the window switches to the new library."""
        from filemeta_gui.ui.dialogs.connect_dialog import ConnectDialog

        dialog = ConnectDialog(self.window)
        dialog.connected.connect(
            lambda services: self.window.tasks.start(self.window.attach(services))
        )
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def toggle_database_panel(self, visible: bool) -> None:
        services = self.window.services
        if self.db_panel is None:
            if not visible or services is None:
                return
            from filemeta_gui.services.monitoring_service import MonitoringService
            from filemeta_gui.ui.widgets.db_panel import DatabasePanel

            panel = DatabasePanel(
                MonitoringService(services.database), self.window, tasks=self.window.tasks
            )
            self.window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel)
            panel.visibilityChanged.connect(self.window.acts.database_panel.setChecked)
            self.db_panel = panel
        self.db_panel.setVisible(visible)

    def library_changed(self) -> None:
        """Point the open database panel at the newly attached library."""
        services = self.window.services
        if self.db_panel is not None and services is not None:
            from filemeta_gui.services.monitoring_service import MonitoringService

            self.db_panel.set_source(MonitoringService(services.database))

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self.window)
        box.setWindowTitle("About FileMeta")
        box.setIconPixmap(icon("app").pixmap(64, 64))
        box.setText(f"<b>FileMeta {__version__}</b>")
        box.setInformativeText(
            "Index folders, search, tag and find duplicate files — on a local SQLite "
            "library or a shared PostgreSQL server."
        )
        box.open()
        return box
