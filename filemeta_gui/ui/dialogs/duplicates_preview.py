"""The right-hand pane of the Duplicates view: a large thumbnail and the facts of a group."""

from __future__ import annotations

import html
import uuid

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from filemeta_gui.domain.records import DuplicateCopy, DuplicateGroup
from filemeta_gui.ui.formatting import count_noun, exact_size, full_time
from filemeta_gui.ui.resources import type_family, type_icon
from filemeta_gui.ui.thumbnails import ThumbnailCache, thumbnail_source

PREVIEW_SIZE = 220


class DuplicatePreview(QFrame):
    def __init__(self, thumbnails: ThumbnailCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("duplicatePreview")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(220)
        self._thumbnails = thumbnails
        self._group: DuplicateGroup | None = None
        self._copy: DuplicateCopy | None = None
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_label.setMinimumHeight(PREVIEW_SIZE)
        self.facts_label = QLabel()
        self.facts_label.setWordWrap(True)
        self.facts_label.setTextFormat(Qt.TextFormat.RichText)
        self.facts_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image_label)
        layout.addWidget(self.facts_label, 1)
        thumbnails.ready.connect(self._thumbnail_ready)
        self.show_item(None, None)

    def show_item(self, group: DuplicateGroup | None, copy: DuplicateCopy | None) -> None:
        self._group, self._copy = group, copy
        if group is None:
            self.image_label.setPixmap(QPixmap())
            self.image_label.setText("Select a group to see it here.")
            self.facts_label.clear()
            return
        self._show_image()
        self.facts_label.setText(self._facts(group, copy))

    def _show_image(self) -> None:
        if self._group is None:
            return
        record = (self._copy or self._group.copies[0]).file
        pixmap = self._thumbnails.get(record) if thumbnail_source(record) else None
        if pixmap is None:
            pixmap = type_icon(type_family(record.content_type)).pixmap(96, 96)
        elif pixmap.width() > PREVIEW_SIZE or pixmap.height() > PREVIEW_SIZE:
            pixmap = pixmap.scaled(
                PREVIEW_SIZE,
                PREVIEW_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.image_label.setText("")
        self.image_label.setPixmap(pixmap)

    def _thumbnail_ready(self, file_id: object) -> None:
        if self._group is None or not isinstance(file_id, uuid.UUID):
            return
        shown = (self._copy or self._group.copies[0]).file.id
        if shown == file_id:
            self._show_image()

    @staticmethod
    def _facts(group: DuplicateGroup, copy: DuplicateCopy | None) -> str:
        first = group.copies[0].file
        rows = [
            f"<b>{html.escape(first.filename)}</b>",
            f"{html.escape(first.content_type)}",
            f"{exact_size(group.size)} per copy",
            f"{count_noun(group.count, 'copy', 'copies')}",
        ]
        links = group.count - group.distinct_inodes
        if links:
            rows.append(f"{count_noun(links, 'hard link')} (they share one file on disk)")
        rows.append(f"<span style='color:#6b7280'>SHA-256 {group.hash_value[:16]}…</span>")
        if copy is not None:
            record = copy.file
            rows += [
                "",
                f"<b>This copy</b><br>{html.escape(record.file_path)}",
                f"Modified {full_time(record.modified)}",
            ]
        return "<br>".join(rows)
