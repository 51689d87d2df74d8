"""The sidebar: the whole library, indexed folders, the tag tree, duplicates, saved searches.

Each entry carries what the window needs to act on it (its kind, the record id and the
search query that shows its files), so the view and the window never parse display text.
"""

from __future__ import annotations

import enum
import os
import uuid
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel

from filemeta_gui.domain.query import PathFilter, TagFilter, describe
from filemeta_gui.domain.records import FolderRecord, SavedSearch, TagRecord
from filemeta_gui.ui.resources import icon

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
QUERY_ROLE = Qt.ItemDataRole.UserRole + 3
COUNT_ROLE = Qt.ItemDataRole.UserRole + 4
NAME_ROLE = Qt.ItemDataRole.UserRole + 5


class SidebarKind(enum.IntEnum):
    SECTION = 0
    ALL = 1
    FOLDER = 2
    TAG = 3
    DUPLICATES = 4
    SAVED = 5


def folder_query(path: str) -> str:
    """The query that lists one folder's files (the parser's own quoting rules)."""
    return describe(PathFilter(path.rstrip("/") + "/*"))


def tag_query(name: str) -> str:
    return describe(TagFilter(name))


class SidebarModel(QStandardItemModel):
    """Sections with their entries; rebuild with :meth:`populate` after every change."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tags: list[TagRecord] = []
        self.folders: list[FolderRecord] = []
        self.populate([], [], [])

    def populate(
        self,
        folders: Sequence[FolderRecord],
        tags: Sequence[TagRecord],
        saved: Sequence[SavedSearch],
        total_files: int | None = None,
        duplicate_groups: int | None = None,
    ) -> None:
        self.folders, self.tags = list(folders), list(tags)
        self.clear()
        root = self.invisibleRootItem()
        library = _section("Library")
        library.appendRow(_entry("All files", SidebarKind.ALL, "library", "", total_files))
        library.appendRow(
            _entry("Duplicates", SidebarKind.DUPLICATES, "duplicates", None, duplicate_groups)
        )
        root.appendRow(library)
        root.appendRow(self._folder_section(folders))
        root.appendRow(self._tag_section(tags))
        root.appendRow(self._saved_section(saved))

    def find(self, kind: SidebarKind, item_id: uuid.UUID | None = None) -> QModelIndex:
        """The index of an entry, or an invalid index."""
        for item in self._walk(self.invisibleRootItem()):
            if item.data(KIND_ROLE) == kind and (item_id is None or item.data(ID_ROLE) == item_id):
                return item.index()
        return QModelIndex()

    def find_query(self, kind: SidebarKind, query: str) -> QModelIndex:
        """The entry of ``kind`` whose files ``query`` lists, or an invalid index."""
        for item in self._walk(self.invisibleRootItem()):
            if item.data(KIND_ROLE) == kind and (item.data(QUERY_ROLE) or "") == query:
                return item.index()
        return QModelIndex()

    def find_tag(self, name: str) -> QModelIndex:
        for item in self._walk(self.invisibleRootItem()):
            if item.data(KIND_ROLE) == SidebarKind.TAG and item.data(NAME_ROLE) == name:
                return item.index()
        return QModelIndex()

    def tag_count(self, name: str) -> int | None:
        index = self.find_tag(name)
        return index.data(COUNT_ROLE) if index.isValid() else None

    def section(self, title: str) -> QModelIndex:
        for row in range(self.rowCount()):
            index = self.index(row, 0)
            if index.data(NAME_ROLE) == title:
                return index
        return QModelIndex()

    def _walk(self, parent: QStandardItem) -> Iterable[QStandardItem]:
        for row in range(parent.rowCount()):
            child = parent.child(row)
            if child is not None:
                yield child
                yield from self._walk(child)

    def _folder_section(self, folders: Sequence[FolderRecord]) -> QStandardItem:
        section = _section("Folders")
        for folder in sorted(folders, key=lambda f: f.path.lower()):
            name = os.path.basename(folder.path.rstrip("/")) or folder.path
            item = _entry(
                name, SidebarKind.FOLDER, "folder", folder_query(folder.path), folder.file_count
            )
            item.setData(folder.id, ID_ROLE)
            item.setToolTip(folder.path)
            section.appendRow(item)
        return section

    def _tag_section(self, tags: Sequence[TagRecord]) -> QStandardItem:
        section = _section("Tags")
        by_parent: dict[uuid.UUID | None, list[TagRecord]] = {}
        known = {tag.id for tag in tags}
        for tag in sorted(tags, key=lambda t: t.name.lower()):
            parent = tag.parent_id if tag.parent_id in known else None
            by_parent.setdefault(parent, []).append(tag)
        self._add_tags(section, None, by_parent, set())
        return section

    def _add_tags(
        self,
        parent_item: QStandardItem,
        parent_id: uuid.UUID | None,
        by_parent: dict[uuid.UUID | None, list[TagRecord]],
        seen: set[uuid.UUID],
    ) -> None:
        for tag in by_parent.get(parent_id, []):
            if tag.id in seen:  # a cycle in the data must not hang the window
                continue
            seen.add(tag.id)
            item = _entry(tag.name, SidebarKind.TAG, "tag", tag_query(tag.name), tag.file_count)
            item.setData(tag.id, ID_ROLE)
            item.setDropEnabled(True)
            parent_item.appendRow(item)
            self._add_tags(item, tag.id, by_parent, seen)

    def _saved_section(self, saved: Sequence[SavedSearch]) -> QStandardItem:
        section = _section("Saved searches")
        for search in sorted(saved, key=lambda s: s.name.lower()):
            item = _entry(search.name, SidebarKind.SAVED, "bookmark", search.query, None)
            item.setData(search.id, ID_ROLE)
            item.setToolTip(search.query)
            section.appendRow(item)
        return section


def _section(title: str) -> QStandardItem:
    item = QStandardItem(title.upper())
    font = QFont()
    font.setBold(True)
    font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
    item.setFont(font)
    item.setData(SidebarKind.SECTION, KIND_ROLE)
    item.setData(title, NAME_ROLE)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    return item


def _entry(
    name: str, kind: SidebarKind, icon_name: str, query: str | None, count: int | None
) -> QStandardItem:
    item = QStandardItem(icon(icon_name), name)
    item.setData(kind, KIND_ROLE)
    item.setData(query, QUERY_ROLE)
    item.setData(count, COUNT_ROLE)
    item.setData(name, NAME_ROLE)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item
