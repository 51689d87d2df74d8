"""The main window: sidebar, file table or thumbnail grid, detail pane, search, status.

Layout and wiring live here; what the actions do lives in the controllers
(:mod:`scan_controller`, :mod:`tag_controller`, :mod:`file_actions`). Every database
call runs in a task kept by :attr:`MainWindow.tasks`; nothing here blocks the loop.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from filemeta_gui.domain.errors import FileMetaError, QuerySyntaxError
from filemeta_gui.domain.query import parse
from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui import settings as keys
from filemeta_gui.ui.dialogs.admin_common import user_name
from filemeta_gui.ui.errors import ConnectionBanner, ErrorHandler
from filemeta_gui.ui.file_actions import FileActions
from filemeta_gui.ui.formatting import count_noun, human_size
from filemeta_gui.ui.models.file_table_model import PIN_LIMIT, FileTableModel
from filemeta_gui.ui.models.sidebar_model import (
    ID_ROLE,
    KIND_ROLE,
    QUERY_ROLE,
    SidebarKind,
    SidebarModel,
)
from filemeta_gui.ui.query_status import PendingQuery
from filemeta_gui.ui.resources import icon
from filemeta_gui.ui.scan_controller import ScanController
from filemeta_gui.ui.selection_keeper import SelectionKeeper, row_ranges
from filemeta_gui.ui.settings import app_settings
from filemeta_gui.ui.tag_controller import TagController
from filemeta_gui.ui.tasks import TaskRegistry
from filemeta_gui.ui.thumbnails import ThumbnailCache
from filemeta_gui.ui.widgets.search_bar import SearchBar
from filemeta_gui.ui.window_actions import build_menus, build_toolbar, create_actions
from filemeta_gui.ui.window_layout import WindowLayout
from filemeta_gui.ui.window_menus import WindowMenus
from filemeta_gui.ui.window_team import TeamFeatures

if TYPE_CHECKING:
    from filemeta_gui.services.container import Services


class MainWindow(QMainWindow):
    """The FileMeta window over one library (:meth:`attach` it to open services).

    Signals:
        closed: the window was closed; the app then calls :meth:`shutdown`.
        sidebar_refreshed: folders, tags and saved searches were reloaded.
    """

    closed = Signal()
    sidebar_refreshed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("FileMeta")
        self.setWindowIcon(icon("app"))
        self.settings = app_settings()
        self.errors = ErrorHandler(self)
        self.tasks = TaskRegistry(on_error=self.report_error)
        self.services: Services | None = None
        self.closing = False
        self.stats_text = ""
        self.thumbnails = ThumbnailCache(self.tasks, parent=self)
        self.model = FileTableModel(self.tasks, thumbnails=self.thumbnails, parent=self)
        self.sidebar_model = SidebarModel(self)
        self.acts = create_actions(self)
        self.search = SearchBar(self)
        self.banner = ConnectionBanner(self)
        self.errors.set_banner(self.banner)
        # What failed while the connection was down (list pages, sidebar, a teammate's
        # changes nobody told us about) is read again once the database answers.
        self.banner.restored.connect(self.refresh)
        self.ui = WindowLayout(self, self.model, self.sidebar_model)
        self._set_central()
        build_menus(self, self.acts)
        build_toolbar(self, self.acts, self.search)
        self.count_label = QLabel(self)
        self.library_label = QLabel(self)
        self.library_label.setObjectName("libraryLabel")
        self.pending = PendingQuery(self.model, self)
        self.statusBar().addWidget(self.count_label, 1)
        self.statusBar().addPermanentWidget(self.ui.scan_progress)
        self.statusBar().addPermanentWidget(self.library_label)
        self.scan = ScanController(self)
        self.tagging = TagController(self)
        self.files = FileActions(self)
        self.menus = WindowMenus(self)
        self.team = TeamFeatures(self)
        self._connect()
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self.restore_state()

    # --- library --------------------------------------------------------------------

    async def attach(self, services: Services) -> None:
        """Show the library behind ``services`` (the window closes them on shutdown)."""
        previous, self.services = self.services, services
        self.scan.cancel()
        self.thumbnails.clear()
        self.banner.set_retry(services.database.ping)
        short, full = library_names(services)
        self.library_label.setText(short)
        self.library_label.setToolTip(f"Library: {full}")
        self.setWindowTitle(f"{short.split(' · ')[-1]} — FileMeta")
        self.search.forget_last()
        self.model.set_library(services.library)
        self.menus.library_changed()
        self.ui.detail.owner_names = await owner_names(services)
        await self.reload_sidebar()
        await self.team.attach(services)
        if previous is not None and previous is not services:
            await previous.close()

    async def shutdown(self) -> None:
        """Cancel all work and close the library, while the event loop still runs."""
        self.closing = True
        self.banner.stop()
        self.model.set_library(None)  # no more fetches: a late repaint asks for nothing
        if self.menus.db_panel is not None:  # its timer would query the closing library
            self.menus.db_panel.shutdown()
        await self.team.stop()
        await self.tasks.cancel_all()
        services, self.services = self.services, None
        if services is not None:
            await services.close()

    def refresh(self, keep_rows: bool = True) -> None:
        """Reload the file list and the sidebar after the library changed."""
        if self.closing:
            return
        self.model.reload(keep_rows=keep_rows)
        self.tasks.start(self.reload_sidebar(), key="sidebar")

    async def reload_sidebar(self) -> None:
        services = self.services
        if services is None:
            return
        folders = await services.folders.list()
        tags = await services.tags.list()
        saved = await services.saved_searches.list()
        stats = await services.library.stats()
        selected = self.ui.sidebar.currentIndex()
        key = (selected.data(KIND_ROLE), selected.data(ID_ROLE)) if selected.isValid() else None
        self.sidebar_model.populate(folders, tags, saved, total_files=stats.files)
        self.model.set_folder_roots({folder.id: folder.path for folder in folders})
        self.ui.sidebar.expandAll()
        self._select_sidebar(key)
        self.tagging.set_known_tags(tag.name for tag in tags)
        self.stats_text = f"{count_noun(stats.files, 'file')} · {human_size(stats.bytes)}"
        self._update_status()
        self._update_stack()
        self.sidebar_refreshed.emit()

    # --- selection --------------------------------------------------------------------

    def selected_ranges(self) -> list[tuple[int, int]]:
        """Selected rows as inclusive ``(top, bottom)`` ranges (Ctrl+A on 1M rows is one)."""
        return row_ranges(self.ui.table.selectionModel().selection())

    def selected_rows(self) -> list[int]:
        return [row for top, bottom in self.selected_ranges() for row in range(top, bottom + 1)]

    def selected_count(self) -> int:
        return sum(bottom - top + 1 for top, bottom in self.selected_ranges())

    def selected_records(self) -> list[FileRecord]:
        """The selected files whose rows are loaded (the model holds a bounded window)."""
        return self.model.records_in(self.selected_ranges())

    def whole_selection(self, doing: str) -> list[FileRecord] | None:
        """Every selected file, or None (and a word why) if not all of them are loaded.

        The model keeps the records of up to ``PIN_LIMIT`` selected rows; a bigger
        selection (Ctrl+A over a million files) is refused rather than half done.
        """
        records = self.selected_records()
        selected = self.selected_count()
        if len(records) < selected:
            self.statusBar().showMessage(
                f"Cannot {doing} {selected:,} files at once: select at most {PIN_LIMIT:,}"
                " (or narrow the list with a search first).",
                10000,
            )
            return None
        return records

    def report_error(self, error: BaseException) -> None:
        self.errors.handle(error)

    # --- wiring -----------------------------------------------------------------------

    def _set_central(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.ui.splitter, 1)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        ui, a = self.ui, self.acts
        self.search.query_changed.connect(self.run_query)
        self.model.query_failed.connect(self._query_failed)
        self.model.query_applied.connect(self._query_applied)
        self.model.refreshed.connect(self._refreshed)
        self.model.total_changed.connect(self._total_changed)
        self.pending.changed.connect(self._update_status)
        self.model.modelReset.connect(self._update_stack)
        self.model.sort_rejected.connect(ui.restore_sort_indicator)
        ui.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.selection_keeper = SelectionKeeper(
            self.model, ui.table.selectionModel(), views=(ui.table, ui.grid)
        )
        ui.sidebar.clicked.connect(self._sidebar_clicked)
        ui.empty.add_folder_requested.connect(self.scan.choose_folder)
        ui.empty.clear_search_requested.connect(lambda: self.search.set_text(""))
        self.thumbnails.ready.connect(self._thumbnail_ready)
        a.quit.triggered.connect(self.close)
        a.find.triggered.connect(self.search.focus)
        a.view_table.triggered.connect(lambda: self.set_view("table"))
        a.view_grid.triggered.connect(lambda: self.set_view("grid"))
        a.toggle_details.toggled.connect(ui.detail.setVisible)
        a.select_all.triggered.connect(ui.table.selectAll)

    def run_query(self, text: str) -> None:
        """Run the query in the search box (after a syntax check that needs no database)."""
        try:
            parse(text)
        except QuerySyntaxError as error:
            self.search.show_error(str(error), error.position)
            return
        self.model.set_query(text)

    def set_view(self, mode: str) -> None:
        """``"table"`` or ``"grid"``; both show the same rows and selection."""
        self.ui.view_mode = mode
        (self.acts.view_grid if mode == "grid" else self.acts.view_table).setChecked(True)
        self._update_stack()

    def _query_failed(self, error: BaseException) -> None:
        if isinstance(error, QuerySyntaxError):
            self.search.show_error(str(error), error.position)
        else:
            self.report_error(error)

    def _refreshed(self) -> None:
        self._update_stack()
        self._selection_changed()  # the detail pane shows the re-read records

    def _query_applied(self, query: str) -> None:
        self.search.clear_error()
        self._select_sidebar_for_query(query)
        self._update_stack()
        self._selection_changed()

    def _total_changed(self, _total: int) -> None:
        self._update_status()
        self._update_stack()

    def _update_stack(self) -> None:
        empty_library = (
            not self.model.query and self.model.total == 0 and not (self.sidebar_model.folders)
        )
        no_match = bool(self.model.shown.query) and self.model.total == 0
        if empty_library:
            self.ui.empty.show_empty_library()
        elif no_match:
            self.ui.empty.show_no_match(self.model.query)
        self.ui.show_page("empty" if empty_library or no_match else self.ui.view_mode)

    def _update_status(self) -> None:
        total = self.model.total
        library = self.stats_text
        if pending := self.pending.text():
            self.count_label.setText(pending)
            return
        if total is None:
            # The rows of a query can come before its count: the library's totals would
            # read as the answer.
            text = "Counting matches…" if self.model.query else library
        elif self.model.query:
            text = f"{count_noun(total, 'file')} match"
        else:
            text = library or count_noun(total, "file")
        selected = self.selected_count()
        if selected:
            text += f"  ·  {selected:,} selected"
        self.count_label.setText(text)

    def _selection_changed(self, *_args: QItemSelection) -> None:
        records = self.selected_records()
        self.ui.detail.show_records(records)
        if len(records) == 1:
            self.ui.detail.set_preview(self.thumbnails.get(records[0]))
        self.files.update_enabled(records)
        self._update_status()

    def _thumbnail_ready(self, file_id: object) -> None:
        shown = self.ui.detail.records
        if len(shown) == 1 and shown[0].id == file_id:
            self.ui.detail.set_preview(self.thumbnails.get(shown[0]))

    def _sidebar_clicked(self, index: QModelIndex) -> None:
        kind = index.data(KIND_ROLE)
        if kind == SidebarKind.DUPLICATES:
            self.menus.show_duplicates()
        elif kind in (SidebarKind.ALL, SidebarKind.FOLDER, SidebarKind.TAG, SidebarKind.SAVED):
            self.search.set_text(str(index.data(QUERY_ROLE) or ""))

    def _select_sidebar(self, key: tuple[object, object] | None) -> None:
        if key is None:
            return
        index = self.sidebar_model.find(SidebarKind(key[0]), key[1])  # type: ignore[arg-type]
        if index.isValid():
            self.ui.sidebar.setCurrentIndex(index)

    def _select_sidebar_for_query(self, query: str) -> None:
        current = self.ui.sidebar.currentIndex()
        if current.isValid() and (current.data(QUERY_ROLE) or "") == query:
            return
        for kind in (SidebarKind.ALL, SidebarKind.FOLDER, SidebarKind.TAG, SidebarKind.SAVED):
            index = self.sidebar_model.find_query(kind, query)
            if index.isValid():
                self.ui.sidebar.setCurrentIndex(index)
                return
        self.ui.sidebar.clearSelection()
        self.ui.sidebar.setCurrentIndex(QModelIndex())

    # --- window events ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [url.toLocalFile() for url in event.mimeData().urls() if _is_folder(url)]
        if folders:
            event.acceptProposedAction()
            for folder in folders:
                self.scan.add_folder(folder)

    def restore_state(self) -> None:
        self.ui.restore(self.settings)
        geometry = self.settings.value(keys.GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value(keys.STATE)
        if state is not None:
            self.restoreState(state)
        self.set_view(self.ui.view_mode)
        self.acts.toggle_details.setChecked(not self.ui.detail.isHidden())

    def save_state(self) -> None:
        self.settings.setValue(keys.GEOMETRY, self.saveGeometry())
        self.settings.setValue(keys.STATE, self.saveState())
        self.ui.save(self.settings)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        event.accept()
        self.closed.emit()


def library_names(services: Services) -> tuple[str, str]:
    """A short label for the status bar and the full name for its tooltip."""
    database = services.database
    if database.sqlite_path is not None:
        return f"Local library · {database.sqlite_path.name}", str(database.sqlite_path)
    url = database.url
    user = f"{url.username}@" if url.username else ""
    return f"PostgreSQL · {user}{url.host or 'localhost'}/{url.database}", database.name


async def owner_names(services: Services) -> dict[uuid.UUID, str]:
    """How the detail pane names file owners: "You" for the current user; an admin also
    sees the others as the admin dialogs name them (a guest may not list users)."""
    identity, names = services.identity, dict[uuid.UUID, str]()
    if identity.is_admin:
        with contextlib.suppress(FileMetaError):
            names = {user.id: user_name(user) for user in await services.users.list()}
    me = identity.user
    if me is not None:
        names[me.id] = f"You ({me.login})" if me.login else "You"
    return names


def _is_folder(url: QUrl) -> bool:
    return url.isLocalFile() and Path(url.toLocalFile()).is_dir()
