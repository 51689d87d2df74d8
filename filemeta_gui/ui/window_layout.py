"""The widgets of the main window and how they are arranged (no behaviour here)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTableView,
)

from filemeta_gui.ui import settings as keys
from filemeta_gui.ui.models.file_columns import COLUMNS
from filemeta_gui.ui.models.file_table_model import FileTableModel
from filemeta_gui.ui.models.sidebar_model import SidebarModel
from filemeta_gui.ui.widgets.detail_pane import DetailPane
from filemeta_gui.ui.widgets.empty_state import EmptyState
from filemeta_gui.ui.widgets.scan_progress import ScanProgressWidget
from filemeta_gui.ui.widgets.sidebar_view import SidebarView
from filemeta_gui.ui.widgets.thumbnail_grid import ThumbnailGrid

ROW_HEIGHT = 26
COLUMN_WIDTHS = (240, 190, 80, 120, 150, 150, 140, 110)
PAGES = ("table", "grid", "empty")


class WindowLayout:
    """Creates the sidebar, the two file views, the empty state and the detail pane."""

    def __init__(self, window: QMainWindow, model: FileTableModel, sidebar: SidebarModel) -> None:
        self.sidebar = SidebarView(window)
        self.sidebar.setModel(sidebar)
        self.table = _file_table(window, model)
        self.grid = ThumbnailGrid(window)
        self.grid.setModel(model)
        self.grid.setSelectionModel(self.table.selectionModel())  # one selection, two views
        self.empty = EmptyState(window)
        self.detail = DetailPane(window)
        self.scan_progress = ScanProgressWidget(window)
        self.stack = QStackedWidget(window)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.empty)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, window)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(1)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 760, 310])
        self.view_mode = "table"

    def show_page(self, name: str) -> None:
        self.stack.setCurrentIndex(PAGES.index(name))

    @property
    def page(self) -> str:
        return PAGES[self.stack.currentIndex()]

    @property
    def current_view(self) -> QAbstractItemView:
        return self.grid if self.view_mode == "grid" else self.table

    def restore_sort_indicator(self) -> None:
        model = self.table.model()
        assert isinstance(model, FileTableModel)
        order = Qt.SortOrder.DescendingOrder if model.descending else Qt.SortOrder.AscendingOrder
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(model.sort_section(), order)
        header.blockSignals(False)

    def restore(self, settings: QSettings) -> None:
        splitter = settings.value(keys.SPLITTER)
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        header = settings.value(keys.HEADER)
        if isinstance(header, QByteArray):
            self.table.horizontalHeader().restoreState(header)
        mode = settings.value(keys.VIEW_MODE, "table")
        self.view_mode = mode if mode in ("table", "grid") else "table"
        details = settings.value(keys.DETAILS_VISIBLE, True)
        self.detail.setVisible(details not in (False, "false"))

    def save(self, settings: QSettings) -> None:
        settings.setValue(keys.SPLITTER, self.splitter.saveState())
        settings.setValue(keys.HEADER, self.table.horizontalHeader().saveState())
        settings.setValue(keys.VIEW_MODE, self.view_mode)
        settings.setValue(keys.DETAILS_VISIBLE, not self.detail.isHidden())


def _file_table(window: QMainWindow, model: FileTableModel) -> QTableView:
    table = QTableView(window)
    table.setObjectName("fileTable")
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    table.setDragEnabled(True)
    table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never ResizeToContents
    rows.setDefaultSectionSize(ROW_HEIGHT)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionsMovable(True)
    header.setStretchLastSection(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column, width in enumerate(COLUMN_WIDTHS[: len(COLUMNS)]):
        table.setColumnWidth(column, width)
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    table.setSortingEnabled(True)
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.customContextMenuRequested.connect(
        lambda pos: column_menu(table).popup(header.mapToGlobal(pos))
    )
    return table


def column_menu(table: QTableView) -> QMenu:
    """Right-click on the header: show or hide each column (the name always stays)."""
    header = table.horizontalHeader()
    menu = QMenu(table)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    for column, spec in enumerate(COLUMNS):
        action = menu.addAction(spec.title)
        action.setCheckable(True)
        action.setChecked(not header.isSectionHidden(column))
        action.setEnabled(column != 0)
        action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
    return menu
