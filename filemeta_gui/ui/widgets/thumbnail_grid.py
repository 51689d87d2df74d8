"""Thumbnails in a grid over the same file model and selection model as the table.

A ``QListView`` (icon mode, or list mode wrapping) lays out every item whenever the model
resets: 1.7 s for a million rows on this machine, again after each sort, search and scan
refresh. Here every cell has the same size, so where row ``i`` sits is arithmetic
(``divmod(i, columns)``): nothing is laid out, a paint touches only the cells on screen,
and the model is asked only for those rows (the rest stay unfetched).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QRegion, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

ICON = QSize(128, 128)
CELL = QSize(156, 176)
MARGIN = 6
"""Space around the grid and between cells (half on each side of a cell)."""

_Index = QModelIndex | QPersistentModelIndex
_Hint = QAbstractItemView.ScrollHint
_Move = QAbstractItemView.CursorAction
_Flag = QItemSelectionModel.SelectionFlag


class _CellDelegate(QStyledItemDelegate):
    """Every picture in a box of the same size, the name centred under it."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: _Index) -> None:
        super().initStyleOption(option, index)
        option.decorationSize = ICON
        option.decorationPosition = QStyleOptionViewItem.Position.Top
        option.decorationAlignment = Qt.AlignmentFlag.AlignCenter
        option.displayAlignment = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        option.textElideMode = Qt.TextElideMode.ElideMiddle
        option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText


class ThumbnailGrid(QAbstractItemView):
    """Cells left to right, then top to bottom, for rows of column 0 of the model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("thumbnailGrid")
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setIconSize(ICON)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setItemDelegate(_CellDelegate(self))
        self.viewport().setMouseTracking(True)
        self._hover = QModelIndex()

    # --- geometry ---------------------------------------------------------------------

    @property
    def columns(self) -> int:
        return max(1, (self.viewport().width() - MARGIN) // CELL.width())

    def _count(self) -> int:
        model = self.model()
        return model.rowCount(self.rootIndex()) if model is not None else 0

    def _cell(self, row: int) -> QRect:
        """Where row ``row`` sits, in viewport coordinates (scrolled)."""
        line, column = divmod(row, self.columns)
        top = MARGIN // 2 + line * CELL.height() - self.verticalOffset()
        return QRect(MARGIN // 2 + column * CELL.width(), top, CELL.width(), CELL.height())

    def _row_at(self, point: QPoint, clamp: bool = False) -> int:
        """The row under ``point`` (-1 if none; ``clamp``: the nearest cell's row)."""
        columns, count = self.columns, self._count()
        column = (point.x() - MARGIN // 2) // CELL.width()
        line = (point.y() + self.verticalOffset() - MARGIN // 2) // CELL.height()
        if clamp:
            column, line = min(max(column, 0), columns - 1), max(line, 0)
            return min(line * columns + column, count - 1)
        if not 0 <= column < columns or line < 0:
            return -1
        row = line * columns + column
        return row if row < count else -1

    def visualRect(self, index: _Index) -> QRect:
        if not index.isValid() or index.parent() != self.rootIndex():
            return QRect()
        return self._cell(index.row()).adjusted(
            MARGIN // 2, MARGIN // 2, -MARGIN // 2, -MARGIN // 2
        )

    def indexAt(self, point: QPoint) -> QModelIndex:
        row = self._row_at(point)
        model = self.model()
        if row < 0 or model is None or not self._cell(row).contains(point):
            return QModelIndex()
        return model.index(row, 0, self.rootIndex())

    def scrollTo(self, index: _Index, hint: _Hint = _Hint.EnsureVisible) -> None:
        if not index.isValid():
            return
        rect, height = self._cell(index.row()), self.viewport().height()
        bar = self.verticalScrollBar()
        top = bar.value() + rect.top()
        if hint == _Hint.PositionAtTop or (hint == _Hint.EnsureVisible and rect.top() < 0):
            bar.setValue(top)
        elif hint == _Hint.PositionAtBottom or (
            hint == _Hint.EnsureVisible and rect.bottom() > height
        ):
            bar.setValue(top + rect.height() - height)
        elif hint == _Hint.PositionAtCenter:
            bar.setValue(top + (rect.height() - height) // 2)

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: _Index) -> bool:
        return False

    def updateGeometries(self) -> None:
        lines = -(-self._count() // self.columns)
        height = self.viewport().height()
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, lines * CELL.height() + MARGIN - height))
        bar.setPageStep(height)
        bar.setSingleStep(CELL.height() // 4)
        super().updateGeometries()

    # --- navigation and selection -----------------------------------------------------

    def moveCursor(self, action: _Move, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        model, count = self.model(), self._count()
        if model is None or count == 0:
            return QModelIndex()
        current = self.currentIndex().row() if self.currentIndex().isValid() else 0
        page = max(1, self.viewport().height() // CELL.height()) * self.columns
        steps = {
            _Move.MoveLeft: -1,
            _Move.MovePrevious: -1,
            _Move.MoveRight: 1,
            _Move.MoveNext: 1,
            _Move.MoveUp: -self.columns,
            _Move.MoveDown: self.columns,
            _Move.MovePageUp: -page,
            _Move.MovePageDown: page,
        }
        if action == _Move.MoveHome:
            row = 0
        elif action == _Move.MoveEnd:
            row = count - 1
        else:
            row = current + steps.get(action, 0)
        return model.index(min(max(row, 0), count - 1), 0, self.rootIndex())

    def setSelection(self, rect: QRect, command: _Flag) -> None:
        """Select the cells a rubber band (or a shift-click's span) covers."""
        model, count = self.model(), self._count()
        if model is None or count == 0:
            return
        first = self._row_at(rect.topLeft(), clamp=True)
        last = self._row_at(rect.bottomRight(), clamp=True)
        selection = QItemSelection()
        columns, last_column = self.columns, model.columnCount(self.rootIndex()) - 1
        left, right = first % columns, last % columns
        if left > right:
            left, right = right, left
        for line in range(first // columns, last // columns + 1):
            top = line * columns + left
            bottom = min(line * columns + right, count - 1)
            if top <= bottom:
                selection.select(
                    model.index(top, 0, self.rootIndex()),
                    model.index(bottom, last_column, self.rootIndex()),
                )
        self.selectionModel().select(selection, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        return QRegion(self.viewport().rect())

    # --- painting and events ----------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        model = self.model()
        if model is None:
            return
        painter = QPainter(self.viewport())
        first = self._row_at(QPoint(MARGIN, event.rect().top()), clamp=True)
        last = self._row_at(QPoint(self.viewport().width(), event.rect().bottom()), clamp=True)
        first -= first % self.columns
        selection, current = self.selectionModel(), self.currentIndex()
        for row in range(max(first, 0), last + 1):
            index = model.index(row, 0, self.rootIndex())
            option = QStyleOptionViewItem()
            self.initViewItemOption(option)
            option.rect = self.visualRect(index)
            if selection is not None and selection.isSelected(index):
                option.state |= QStyle.StateFlag.State_Selected
            if index == current and self.hasFocus():
                option.state |= QStyle.StateFlag.State_HasFocus
            if index == self._hover:
                option.state |= QStyle.StateFlag.State_MouseOver
            self.itemDelegateForIndex(index).paint(painter, option, index)
        painter.end()

    def dataChanged(
        self, top_left: _Index, bottom_right: _Index, roles: Sequence[int] = ()
    ) -> None:
        # Not the base class: it asks visualRect() of every cell of the range, which for
        # the whole list (a new folder root) is a million Python calls.
        first = self._row_at(QPoint(MARGIN, 0), clamp=True)
        last = self._row_at(QPoint(self.viewport().width(), self.viewport().height()), clamp=True)
        if top_left.row() <= last and bottom_right.row() >= first - self.columns:
            self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hover = self.indexAt(event.position().toPoint())
        if hover != self._hover:
            self._hover = QModelIndex(hover)
            self.viewport().update()
        super().mouseMoveEvent(event)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.updateGeometries()

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        if model is not None:
            for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
                signal.connect(self._relayout)

    def _relayout(self, *_args: object) -> None:
        self._hover = QModelIndex()
        self.updateGeometries()
        self.viewport().update()
