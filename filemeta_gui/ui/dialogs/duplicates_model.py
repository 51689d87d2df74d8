"""The tree behind the Duplicates view: groups on top, their copies below.

Each copy has a "keep" check box. The model refuses to uncheck the last kept copy of a
group, so the view can never ask to remove every copy (the service refuses it too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QIcon

from filemeta_gui.domain.records import DuplicateCopy, DuplicateGroup, FileRecord
from filemeta_gui.ui.dialogs.duplicate_rules import KeepRule, copies_to_keep, freed_bytes
from filemeta_gui.ui.formatting import count_noun, full_time, human_size, human_time
from filemeta_gui.ui.resources import type_family, type_icon
from filemeta_gui.ui.thumbnails import ThumbnailCache, thumbnail_source

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("File", "Folder", "Size", "Modified", "Frees")
NAME, FOLDER, SIZE, MODIFIED, FREES = range(len(HEADERS))
LAST_COPY_MESSAGE = "Each group keeps at least one copy: keep another copy of it first."
_REMOVE_COLOR = QColor("#b3261e")
_MUTED_COLOR = QColor("#6b7280")


class DuplicatesModel(QAbstractItemModel):
    """Groups of identical files and, per copy, whether to keep it.

    Attributes:
        marks_changed: the set of copies marked for removal changed.
        refused: an edit was refused; carries the reason in plain words.
    """

    marks_changed = Signal()
    refused = Signal(str)

    def __init__(
        self, thumbnails: ThumbnailCache | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._groups: list[DuplicateGroup] = []
        self._removed: set[uuid.UUID] = set()
        self._row_of_file: dict[uuid.UUID, int] = {}
        self._thumbnails = thumbnails
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    # -- data in and out ------------------------------------------------------

    def set_groups(self, groups: Iterable[DuplicateGroup]) -> None:
        """Show ``groups``; marks on copies that are still there survive a reload."""
        self.beginResetModel()
        self._groups = [g for g in groups if g.count > 1]
        present = {c.file.id for g in self._groups for c in g.copies}
        self._removed &= present
        self._row_of_file = {c.file.id: row for row, g in enumerate(self._groups) for c in g.copies}
        self.endResetModel()
        self.marks_changed.emit()

    @property
    def groups(self) -> list[DuplicateGroup]:
        return list(self._groups)

    def marked_for_removal(self) -> list[FileRecord]:
        return [c.file for g in self._groups for c in g.copies if c.file.id in self._removed]

    def planned_bytes(self) -> int:
        """Disk space the marked copies occupy (hard links to kept copies excluded)."""
        return sum(freed_bytes(g, self._removed) for g in self._groups)

    def marked_bytes(self) -> int:
        """Sum of the sizes of the marked copies (what leaves the library)."""
        return sum(f.file_size for f in self.marked_for_removal())

    def total_reclaimable(self) -> int:
        return sum(g.reclaimable for g in self._groups)

    def is_kept(self, file_id: uuid.UUID) -> bool:
        return file_id not in self._removed

    def set_keep(self, file_id: uuid.UUID, keep: bool) -> bool:
        """Keep or mark one copy; False (and ``refused``) for the last kept copy."""
        row = self._row_of_file.get(file_id)
        if row is None:
            return False
        group = self._groups[row]
        if keep:
            self._removed.discard(file_id)
        else:
            kept = [c for c in group.copies if c.file.id not in self._removed]
            if [c.file.id for c in kept] == [file_id]:
                self.refused.emit(LAST_COPY_MESSAGE)
                return False
            self._removed.add(file_id)
        self._group_changed(row)
        return True

    def apply_rule(
        self, rule: KeepRule, folder: str | None = None, rows: Iterable[int] | None = None
    ) -> int:
        """Mark every copy the rule does not keep, in the given group rows (default all).

        Returns:
            How many groups the rule applied to.
        """
        applied = 0
        for row in rows if rows is not None else range(len(self._groups)):
            group = self._groups[row]
            keep = copies_to_keep(group, rule, folder)
            if keep is None:
                continue
            applied += 1
            for copy in group.copies:
                if copy.file.id in keep:
                    self._removed.discard(copy.file.id)
                else:
                    self._removed.add(copy.file.id)
            self._group_changed(row, emit=False)
        self.marks_changed.emit()
        return applied

    def keep_all(self, rows: Iterable[int] | None = None) -> None:
        for row in rows if rows is not None else range(len(self._groups)):
            for copy in self._groups[row].copies:
                self._removed.discard(copy.file.id)
            self._group_changed(row, emit=False)
        self.marks_changed.emit()

    def group_at(self, index: Index) -> DuplicateGroup | None:
        if not index.isValid():
            return None
        row = index.row() if index.internalId() == 0 else index.internalId() - 1
        return self._groups[row] if 0 <= row < len(self._groups) else None

    def copy_at(self, index: Index) -> DuplicateCopy | None:
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._groups[index.internalId() - 1].copies[index.row()]

    def _group_changed(self, row: int, emit: bool = True) -> None:
        group_index = self.index(row, 0)
        last_child = self.index(self._groups[row].count - 1, len(HEADERS) - 1, group_index)
        self.dataChanged.emit(self.index(0, 0, group_index), last_child)
        self.dataChanged.emit(group_index, self.index(row, len(HEADERS) - 1))
        if emit:
            self.marks_changed.emit()

    def _thumbnail_ready(self, file_id: object) -> None:
        row = self._row_of_file.get(file_id) if isinstance(file_id, uuid.UUID) else None
        if row is not None:
            index = self.index(row, NAME)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # -- QAbstractItemModel ---------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return self._groups[parent.row()].count
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.internalId() != 0 and index.column() == NAME:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        copy = self.copy_at(index)
        if copy is None or role != Qt.ItemDataRole.CheckStateRole:
            return False
        keep = Qt.CheckState(value) == Qt.CheckState.Checked
        return self.set_keep(copy.file.id, keep)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._group_data(self._groups[index.row()], index.column(), role)
        group = self._groups[index.internalId() - 1]
        return self._copy_data(group, group.copies[index.row()], index.column(), role)

    def _group_data(self, group: DuplicateGroup, column: int, role: int) -> Any:
        first = group.copies[0].file
        marked = sum(1 for c in group.copies if c.file.id in self._removed)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return first.filename
            if column == FOLDER:
                text = count_noun(group.count, "copy", "copies")
                return f"{text} · {marked} to remove" if marked else text
            if column == SIZE:
                return human_size(group.size)
            if column == FREES:
                planned = freed_bytes(group, self._removed)
                return human_size(planned) if marked else f"up to {human_size(group.reclaimable)}"
        elif role == Qt.ItemDataRole.FontRole and column == NAME:
            font = QFont()
            font.setBold(True)
            return font
        elif role == Qt.ItemDataRole.ForegroundRole and column in (FOLDER, FREES) and not marked:
            return QBrush(_MUTED_COLOR)
        elif role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return self._group_icon(group)
        elif role == Qt.ItemDataRole.ToolTipRole:
            return f"SHA-256 {group.hash_value}\n{group.size:,} bytes per copy"
        elif role == Qt.ItemDataRole.TextAlignmentRole and column in (SIZE, FREES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _copy_data(self, group: DuplicateGroup, copy: DuplicateCopy, column: int, role: int) -> Any:
        record = copy.file
        removed = record.id in self._removed
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                NAME: record.filename,
                FOLDER: record.directory,
                SIZE: human_size(record.file_size),
                MODIFIED: human_time(record.modified),
                FREES: "0 (hard link)" if copy.hard_link and removed else "",
            }.get(column)
        if role == Qt.ItemDataRole.CheckStateRole and column == NAME:
            return Qt.CheckState.Unchecked if removed else Qt.CheckState.Checked
        if role == Qt.ItemDataRole.ForegroundRole and removed:
            return QBrush(_REMOVE_COLOR)
        if role == Qt.ItemDataRole.FontRole and removed:
            font = QFont()
            font.setStrikeOut(column in (NAME, FOLDER))
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            state = "will be removed" if removed else "kept"
            return f"{record.file_path}\nModified {full_time(record.modified)}\n{state}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (SIZE, FREES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _group_icon(self, group: DuplicateGroup) -> QIcon:
        first = group.copies[0].file
        if self._thumbnails is not None and thumbnail_source(first) is not None:
            pixmap = self._thumbnails.get(first)
            if pixmap is not None:
                return QIcon(pixmap)
        return type_icon(type_family(first.content_type))
