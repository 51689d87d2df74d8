"""Keeps the selected files selected when the file list is re-queried.

A reload (after tagging, a scan batch, a sort) resets the model, and a reset clears the
selection. The keeper remembers the selected file ids just before and selects the same
files afterwards, wherever their rows now are, so tagging a file never loses it.

The model holds a bounded window of rows, so only selected files whose rows are loaded
can be found again (a refresh re-reads the rows on screen first). A selection of every
row (Ctrl+A over a million files) is kept as that: every row of the new list.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject
from PySide6.QtWidgets import QAbstractItemView

from filemeta_gui.ui.models.file_table_model import FileTableModel

_Flag = QItemSelectionModel.SelectionFlag


def row_ranges(selection: QItemSelection) -> list[tuple[int, int]]:
    """The rows of a selection as sorted, merged, inclusive ``(top, bottom)`` ranges."""
    parts = (selection.at(i) for i in range(selection.size()))
    spans = sorted((part.top(), part.bottom()) for part in parts if part.isValid())
    merged: list[tuple[int, int]] = []
    for top, bottom in spans:
        if merged and top <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], bottom))
        else:
            merged.append((top, bottom))
    return merged


class SelectionKeeper(QObject):
    """Re-selects the same files after a reset, and keeps the views where they were.

    Args:
        views: the views over ``model``. A refresh keeps their scroll position (the
            current file is made current again without scrolling to it); a new query
            or sort starts them at the top.
    """

    def __init__(
        self,
        model: FileTableModel,
        selection: QItemSelectionModel,
        views: Sequence[QAbstractItemView] = (),
    ) -> None:
        super().__init__(model)
        self._model = model
        self._selection = selection
        self._views = tuple(views)
        self._selected: list[uuid.UUID] = []
        self._all = False
        self._current: uuid.UUID | None = None
        self._scrolled: list[int] = []
        self._replacing = False
        model.modelAboutToBeReset.connect(self._remember)
        model.modelReset.connect(self._restore)
        selection.selectionChanged.connect(self._pin)

    def _pin(self) -> None:
        """The selected files stay known while their rows scroll out of the model's cache."""
        self._model.pin(row_ranges(self._selection.selection()))

    def _remember(self) -> None:
        ranges = row_ranges(self._selection.selection())
        rows = self._model.rowCount()
        self._all = rows > 1 and ranges == [(0, rows - 1)]
        self._selected = [record.id for record in self._model.records_in(ranges)]
        current = self._model.record(self._selection.currentIndex().row())
        self._current = current.id if current is not None else None
        self._replacing = self._model.replacing
        self._scrolled = [view.verticalScrollBar().value() for view in self._views]

    def _restore(self) -> None:
        if self._replacing:
            for view in self._views:
                view.scrollToTop()
        selection = QItemSelection()
        last_column = self._model.columnCount() - 1
        if self._all and self._model.rowCount():
            last_row = self._model.rowCount() - 1
            selection.select(self._model.index(0, 0), self._model.index(last_row, last_column))
        for row in (self._model.row_of(file_id) for file_id in self._selected):
            if row is not None and not self._all:
                selection.select(self._model.index(row, 0), self._model.index(row, last_column))
        current = self._model.row_of(self._current) if self._current else None
        if current is not None:
            self._selection.setCurrentIndex(self._model.index(current, 0), _Flag.NoUpdate)
        if not selection.isEmpty():
            self._selection.select(selection, _Flag.ClearAndSelect)
        if not self._replacing:  # setting the current index scrolled to it: undo that
            for view, value in zip(self._views, self._scrolled, strict=True):
                view.verticalScrollBar().setValue(value)
