"""The columns of the file list and how each shows a record (no Qt model logic here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from PySide6.QtCore import Qt

from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui.formatting import full_time, human_size, human_time


@dataclass(frozen=True)
class Column:
    title: str
    sort: SortColumn | None


COLUMNS: tuple[Column, ...] = (
    Column("Name", SortColumn.NAME),
    Column("Folder", SortColumn.FOLDER),
    Column("Size", SortColumn.SIZE),
    Column("Type", SortColumn.TYPE),
    Column("Modified", SortColumn.MODIFIED),
    Column("Indexed", SortColumn.INDEXED),
    Column("Tags", None),
    Column("Hash", SortColumn.HASH),
)
NAME, FOLDER, SIZE, TYPE, MODIFIED, INDEXED, TAGS, HASH = range(len(COLUMNS))
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


NO_FOLDER = uuid.UUID(int=0)


def folder_text(record: FileRecord, root: str | None) -> str:
    """``photos/notes`` for a file under the indexed folder ``/home/ann/photos``."""
    directory = record.directory
    if root is None:
        return directory
    root = root.rstrip("/")
    if directory == root or directory.startswith(root + "/"):
        name = root.rsplit("/", 1)[-1] or root
        return name + directory[len(root) :]
    return directory


def display_text(record: FileRecord, column: int) -> str:
    if column == NAME:
        return record.filename
    if column == FOLDER:
        return record.directory
    if column == SIZE:
        return human_size(record.file_size)
    if column == TYPE:
        return record.content_type
    if column == MODIFIED:
        return human_time(record.modified)
    if column == INDEXED:
        return human_time(record.upload_time)
    if column == TAGS:
        return ", ".join(record.tags)
    if column == HASH:
        return record.hash_value[:12] if record.hash_value else "—"
    return ""


def tooltip(record: FileRecord, column: int) -> str:
    if column == SIZE:
        return f"{record.file_size:,} bytes"
    if column == MODIFIED:
        return full_time(record.modified)
    if column == INDEXED:
        return full_time(record.upload_time)
    if column == HASH:
        return record.hash_value or "Not hashed yet"
    if column == TAGS and record.tags:
        return "\n".join(record.tags)
    return record.file_path
