"""The sidebar tree: counts drawn right-aligned, and files dropped on a tag get tagged."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from filemeta_gui.ui.models.file_table_model import FILE_IDS_MIME
from filemeta_gui.ui.models.sidebar_model import (
    COUNT_ROLE,
    KIND_ROLE,
    NAME_ROLE,
    SidebarKind,
)


class CountDelegate(QStyledItemDelegate):
    """Draws an entry's count in a muted colour at the right edge of its row."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        count = index.data(COUNT_ROLE)
        if count is None:
            super().paint(painter, option, index)
            return
        text = f"{count:,}"
        width = option.fontMetrics.horizontalAdvance(text) + 12
        shrunk = QStyleOptionViewItem(option)
        shrunk.rect = option.rect.adjusted(0, 0, -width, 0)
        # Fill the whole row first so the selection highlight spans the count too.
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
            )
        super().paint(painter, shrunk, index)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = (
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText
        )
        painter.setPen(option.palette.color(role))
        box = QRect(option.rect.right() - width, option.rect.top(), width - 6, option.rect.height())
        painter.drawText(
            box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()


class SidebarView(QTreeView):
    """Tree of sidebar entries. Emits ``files_dropped_on_tag(tag_name, file_ids)``."""

    files_dropped_on_tag = Signal(str, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)  # sections are headings, not folders to fold
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        self.setAnimated(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(CountDelegate(self))

    def tag_at(self, pos: QPoint) -> str | None:
        index = self.indexAt(pos)
        if index.isValid() and index.data(KIND_ROLE) == SidebarKind.TAG:
            return str(index.data(NAME_ROLE))
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(FILE_IDS_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        pos = event.position().toPoint()
        if event.mimeData().hasFormat(FILE_IDS_MIME) and self.tag_at(pos) is not None:
            self.setCurrentIndex(self.indexAt(pos))
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        tag = self.tag_at(event.position().toPoint())
        data = event.mimeData()
        if tag is None or not data.hasFormat(FILE_IDS_MIME):
            event.ignore()
            return
        raw = bytes(data.data(FILE_IDS_MIME).data()).decode()
        ids = [uuid.UUID(line) for line in raw.splitlines() if line.strip()]
        event.acceptProposedAction()
        if ids:
            self.files_dropped_on_tag.emit(tag, ids)
