"""The file list as a Qt table model: a bounded, sparse window onto a query of any size.

``rowCount`` is the query's total (``LibraryService.count``), but only the blocks of rows
the views looked at recently are held (:mod:`block_cache`: 50 blocks of 200 rows, least
recently used out first). A row whose block is not here shows a placeholder and queues
its block; the blocks wanted most recently are fetched first, each one keyset query
(see :class:`~filemeta_gui.ui.models.block_cache.BlockPlanner` for how a block at any
depth is reached), and a ``dataChanged`` repaints them. Loading lives in
:class:`~filemeta_gui.ui.models.file_loader.FileLoader`.

A new query or sort replaces the whole window when its first block has arrived (typing
never flashes an empty table); the count, then the anchors follow in the background. A
refresh (scan batches, tag edits) keeps the scroll position: it re-counts and re-reads
the blocks on screen, then swaps them in at once.
"""

from __future__ import annotations

import uuid
from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor

from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui.models.block_cache import BLOCK_SIZE, CAPACITY, Block, BlockCache, BlockPlanner
from filemeta_gui.ui.models.file_columns import (
    COLUMNS,
    FOLDER,
    LEFT,
    NAME,
    NO_FOLDER,
    RIGHT,
    SIZE,
    display_text,
    folder_text,
    tooltip,
)
from filemeta_gui.ui.models.file_loader import Cursor, FileLoader, QuerySpec
from filemeta_gui.ui.resources import type_family, type_icon
from filemeta_gui.ui.tasks import TaskRegistry

if TYPE_CHECKING:
    from filemeta_gui.services.library import LibraryService
    from filemeta_gui.ui.thumbnails import ThumbnailCache

FILE_IDS_MIME = "application/x-filemeta-file-ids"
FILE_ROLE = Qt.ItemDataRole.UserRole + 1
PIN_LIMIT = 20_000
"""Selected records kept even when their blocks leave the cache (actions need them)."""
PLACEHOLDER = "…"
PLACEHOLDER_COLOR = QColor("#9aa3af")
_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole
# Plain ints: ``data`` runs for every role of every cell painted (about 1,300 calls per
# repaint of a full window), and comparing with the enum members costs a lookup each.
_DISPLAY_ROLE = int(_DISPLAY)
_DECORATION_ROLE = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND_ROLE = int(Qt.ItemDataRole.ForegroundRole)
_ANSWERED_ROLES = frozenset(
    (_DISPLAY_ROLE, _DECORATION_ROLE, _TOOLTIP_ROLE, _ALIGNMENT_ROLE, _FOREGROUND_ROLE, FILE_ROLE)
)
_CELL_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled
    | Qt.ItemFlag.ItemIsSelectable
    | Qt.ItemFlag.ItemIsDragEnabled
    | Qt.ItemFlag.ItemNeverHasChildren
)


def _record_id(record: FileRecord) -> uuid.UUID:
    return record.id


class FileTableModel(QAbstractTableModel):
    """Rows of :class:`FileRecord` for one query and one sort order, fetched by block."""

    loading_changed = Signal(bool)
    query_failed = Signal(object)
    """The query was rejected (``QuerySyntaxError``) or failed; rows are left as they were."""
    query_applied = Signal(str)
    """The first block of another query or sort arrived and replaced the rows."""
    refreshed = Signal()
    """A refresh of the query shown (scan batch, tag edit, live update) replaced the rows."""
    total_changed = Signal(int)
    sort_rejected = Signal()
    """A header without an SQL sort (Tags) was clicked; the view restores its indicator."""
    block_loaded = Signal(int)
    """Block ``n`` (rows ``n * block_size`` onwards) arrived and was repainted."""

    def __init__(
        self,
        tasks: TaskRegistry,
        block_size: int = BLOCK_SIZE,
        thumbnails: ThumbnailCache | None = None,
        parent: QObject | None = None,
        capacity: int = CAPACITY,
    ) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._library: LibraryService | None = None
        self._rows = 0
        self._cache: BlockCache[FileRecord] = BlockCache(_record_id, block_size, capacity)
        self._planner = BlockPlanner(block_size)
        self.shown = QuerySpec("", SortColumn.NAME, False)
        """The query, sort and direction of the rows in the model now."""
        self.query = ""
        self.sort_column = SortColumn.NAME
        self.descending = False
        self.total: int | None = None
        self.replacing = False
        """During a reset: True if another query or sort replaces the rows (not a refresh)."""
        self._roots: dict[uuid.UUID, str] = {}
        self._pinned: dict[int, FileRecord] = {}
        self.loader = FileLoader(self, tasks)
        if thumbnails is not None:
            thumbnails.ready.connect(self._thumbnail_ready)

    # --- public API -------------------------------------------------------------------

    @property
    def library(self) -> LibraryService | None:
        return self._library

    @property
    def block_size(self) -> int:
        return self._cache.block_size

    @property
    def cache(self) -> BlockCache[FileRecord]:
        """The blocks held now (read it, never change it: tests and benchmarks look)."""
        return self._cache

    @property
    def planner(self) -> BlockPlanner:
        return self._planner

    def configure_blocks(self, block_size: int, capacity: int) -> None:
        """Use other block sizes (tests: many blocks from a small library); reloads."""
        self._cache = BlockCache(_record_id, block_size, capacity)
        self._planner = BlockPlanner(block_size)
        self.install(self.shown, 0, {}, None, None)
        self.reload()

    def set_library(self, library: LibraryService | None) -> None:
        """Point the model at another library (or none) and load its first block."""
        self._library = library
        self.install(self.shown, 0, {}, None, None)
        self.reload()

    def set_query(self, query: str) -> None:
        self.query = query.strip()
        self.reload()

    def requested(self) -> QuerySpec:
        """What the model should show: the query and sort asked for last."""
        return QuerySpec(self.query, self.sort_column, self.descending)

    def reload(self, keep_rows: bool = False) -> None:
        """Re-run the query (the one running is cancelled, a refresh is coalesced).

        Args:
            keep_rows: a refresh after a scan batch or a tag edit: keep the scroll
                position and the rows on screen (re-read, swapped in at once).
        """
        if self._library is None:
            self.loader.cancel()
            self.install(self.requested(), 0, {}, None, 0)
            return
        self.loader.reload(keep_rows=keep_rows and self._rows > 0)

    def set_folder_roots(self, roots: dict[uuid.UUID, str]) -> None:
        """Indexed folders by id: the Folder column shows paths relative to them."""
        if roots != self._roots:
            self._roots = dict(roots)
            self.repaint_blocks(self._cache.blocks, FOLDER)  # rows not held show nothing yet

    def record(self, row: int) -> FileRecord | None:
        """The record at ``row`` if its block is here (None: not fetched, or no such row)."""
        if not 0 <= row < self._rows:
            return None
        return self._cache.peek(row) or self._pinned.get(row)

    def records(self, rows: Sequence[int]) -> list[FileRecord]:
        """The records of ``rows`` whose blocks are here (rows not fetched are skipped)."""
        found = (self.record(row) for row in rows)
        return [record for record in found if record is not None]

    def records_in(self, ranges: Sequence[tuple[int, int]]) -> list[FileRecord]:
        """Records held in any of the inclusive row ranges, by row (however long they are).

        A selection of a million rows is two numbers; this walks the blocks held (and the
        pinned records), not the rows selected.
        """
        found = self._held_in(ranges)
        return [found[row] for row in sorted(found)]

    def pin(self, ranges: Sequence[tuple[int, int]]) -> None:
        """Keep the records of these rows (a selection) until the next reset, if not too many.

        Blocks come and go as the view scrolls; the files a user selected must not, or
        Delete would act on fewer files than the status bar says are selected.
        """
        held = self._held_in(ranges)
        self._pinned = held if len(held) <= PIN_LIMIT else {}

    def _held_in(self, ranges: Sequence[tuple[int, int]]) -> dict[int, FileRecord]:
        """Rows in ``ranges`` (sorted, not overlapping: ``row_ranges``) whose record is here."""
        tops = [top for top, _bottom in ranges]
        found = {row: r for row, r in self._pinned.items() if _within(row, ranges, tops)}
        size = self._cache.block_size
        for number in self._cache.blocks:
            block = self._cache.block(number)
            assert block is not None
            first = number * size
            for top, bottom in ranges:
                for row in range(max(top, first), min(bottom, first + len(block.rows) - 1) + 1):
                    found[row] = block.rows[row - first]
        return {row: record for row, record in found.items() if row < self._rows}

    def row_of(self, file_id: uuid.UUID) -> int | None:
        row = self._cache.row_of(file_id)
        return row if row is not None and row < self._rows else None

    @property
    def loading(self) -> bool:
        return self.loader.loading

    # --- Qt model interface -----------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == _DISPLAY:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if section == SIZE else LEFT
        return None

    def data(self, index: _Index, role: int = _DISPLAY) -> Any:
        # Most roles a delegate asks for (font, colours, size hint…) are not ours: answer
        # them before looking anything up.
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None
        column = index.column()
        if role == _ALIGNMENT_ROLE:
            return RIGHT if column == SIZE else LEFT
        record = self._cache.get(index.row())
        if record is None:
            return self._placeholder(index.row(), column, role)
        if role == _DISPLAY_ROLE:
            if column == FOLDER:
                return folder_text(record, self._roots.get(record.folder_id or NO_FOLDER))
            return display_text(record, column)
        if role == _DECORATION_ROLE:
            return self._decoration(record) if column == NAME else None
        if role == _TOOLTIP_ROLE:
            return tooltip(record, column)
        if role == FILE_ROLE:
            return record
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return _CELL_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS) or COLUMNS[column].sort is None:
            self.sort_rejected.emit()
            return
        sort = COLUMNS[column].sort
        descending = order == Qt.SortOrder.DescendingOrder
        if sort == self.sort_column and descending == self.descending:
            return
        assert sort is not None
        self.sort_column, self.descending = sort, descending
        self.reload()

    def sort_section(self) -> int:
        return next(i for i, column in enumerate(COLUMNS) if column.sort == self.sort_column)

    def mimeTypes(self) -> list[str]:
        return [FILE_IDS_MIME, "text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        records = self.records(rows)
        mime = QMimeData()
        mime.setData(FILE_IDS_MIME, "\n".join(str(r.id) for r in records).encode())
        mime.setUrls([QUrl.fromLocalFile(r.os_path) for r in records])
        mime.setText("\n".join(r.file_path for r in records))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction

    # --- called by the loader ---------------------------------------------------------

    def install(
        self,
        spec: QuerySpec,
        rows: int,
        blocks: dict[int, Block[FileRecord]],
        anchors: list[Cursor] | None,
        total: int | None,
    ) -> None:
        """Replace the whole window (one model reset: the selection keeper steps in).

        A refresh that finds the same files in the same rows (a scan storing hashes, a tag
        edit) updates them in place instead: only the rows that changed are repainted.
        """
        if spec == self.shown and self._update_in_place(rows, blocks, anchors, total):
            return
        self.replacing = spec != self.shown
        self.beginResetModel()
        self.shown = spec
        self._pinned.clear()
        self._rows = rows
        self._swap_in(rows, blocks, anchors, total)
        self.endResetModel()
        if total is not None:
            self.total_changed.emit(total)

    def _update_in_place(
        self,
        rows: int,
        blocks: dict[int, Block[FileRecord]],
        anchors: list[Cursor] | None,
        total: int | None,
    ) -> bool:
        """Swap in re-read blocks without a reset, if no row can have moved.

        A reset repaints every row on screen and takes the selection apart (the keeper
        puts it back): the longest pause of the window while a scan stores hashes. Safe
        only when the count is the same, every re-read block holds the files it held, in
        the same rows, and every pinned (selected) row lies in those blocks.
        """
        if rows != self._rows or not blocks:
            return False
        olds: dict[int, Block[FileRecord]] = {}
        for number, block in blocks.items():
            old = self._cache.block(number)
            if old is None or [r.id for r in old.rows] != [r.id for r in block.rows]:
                return False
            olds[number] = old
        size = self._cache.block_size
        if any(row // size not in blocks for row in self._pinned):
            return False
        self._swap_in(rows, blocks, anchors, total)
        self._pinned = {row: blocks[row // size].rows[row % size] for row in self._pinned}
        last = len(COLUMNS) - 1
        for number, block in blocks.items():
            first = number * size
            pairs = zip(olds[number].rows, block.rows, strict=True)
            changed = [first + offset for offset, (was, now) in enumerate(pairs) if was != now]
            for top, bottom in _runs(changed):  # one signal per run of neighbouring rows
                self.dataChanged.emit(self.index(top, 0), self.index(bottom, last))
        return True

    def _swap_in(
        self,
        rows: int,
        blocks: dict[int, Block[FileRecord]],
        anchors: list[Cursor] | None,
        total: int | None,
    ) -> None:
        """Hold exactly ``blocks`` from now on (blocks still being read belong to the
        window before: their results are dropped)."""
        self.loader.new_epoch()
        self._cache.clear()
        for number, block in sorted(blocks.items()):
            self._cache.put(number, block)
        self._planner.reset(rows, anchors)
        self.total = total

    def resize(self, rows: int) -> None:
        """The count arrived (or changed): rows appear or go at the end, nothing resets."""
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = self._planner.rows = rows
            self.endInsertRows()
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = self._planner.rows = rows
            self.endRemoveRows()
        self.total = rows
        self.total_changed.emit(rows)

    def store(self, number: int, block: Block[FileRecord]) -> None:
        """A fetched block: keep it and repaint its rows (wherever they are on screen)."""
        self._cache.put(number, block)
        self.repaint_blocks([number])
        self.block_loaded.emit(number)

    def repaint_blocks(self, numbers: Sequence[int], column: int | None = None) -> None:
        """Views repaint what they show of these blocks, asking again for rows not here.

        Args:
            column: only this column changed (default: all of them).
        """
        size = self._cache.block_size
        left, right = (0, len(COLUMNS) - 1) if column is None else (column, column)
        for number in numbers:
            first = number * size
            last = min(first + size, self._rows) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, left), self.index(last, right))

    # --- helpers ----------------------------------------------------------------------

    def _placeholder(self, row: int, column: int, role: int) -> Any:
        if role == _DISPLAY_ROLE:
            if 0 <= row < self._rows:
                self.loader.want(row // self._cache.block_size)
            return PLACEHOLDER if column == NAME else None
        if role == _FOREGROUND_ROLE:
            return PLACEHOLDER_COLOR
        return None

    def _decoration(self, record: FileRecord) -> Any:
        if self._thumbnails is not None:
            thumbnail = self._thumbnails.icon(record)
            if thumbnail is not None:
                return thumbnail
        return type_icon(type_family(record.content_type))

    def _thumbnail_ready(self, file_id: uuid.UUID) -> None:
        row = self.row_of(file_id)
        if row is not None:
            index = self.index(row, NAME)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted ``rows`` as inclusive ``(top, bottom)`` runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _within(row: int, ranges: Sequence[tuple[int, int]], tops: Sequence[int]) -> bool:
    at = bisect_right(tops, row) - 1
    return at >= 0 and row <= ranges[at][1]
