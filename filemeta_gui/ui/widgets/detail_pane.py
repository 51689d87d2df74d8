"""Everything about the selected file: thumbnail, every field, tags you can edit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFontDatabase, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.records import FileRecord
from filemeta_gui.ui.formatting import count_noun, exact_size, full_time, human_size
from filemeta_gui.ui.resources import icon, type_family, type_icon
from filemeta_gui.ui.widgets.tag_editor import TagEditor

PREVIEW = QSize(240, 200)
_FIELDS = (
    "Path",
    "Folder",
    "Size",
    "Type",
    "Modified",
    "Indexed",
    "SHA-256",
    "Owner",
    "Access",
    "File ID",
)


class DetailPane(QScrollArea):
    """Shows one record in full, or a summary of a multiple selection.

    Signals ``open_requested`` and ``reveal_requested`` ask the window to open the file
    or its folder; tag edits come from :attr:`tags` (a :class:`TagEditor`).
    """

    open_requested = Signal()
    reveal_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.setWidgetResizable(True)
        # Wrap long paths and digests instead of scrolling sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(260)
        body = QWidget(self)
        body.setObjectName("detailBody")
        self.preview = QLabel(body)
        self.preview.setObjectName("detailPreview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(PREVIEW.height())
        self.title = QLabel(body)
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel("Select a file to see its details and tags.", body)
        self.hint.setWordWrap(True)
        self.hint.setProperty("role", "fieldName")
        self.values: dict[str, QLabel | QLineEdit] = {}
        self.names: dict[str, QLabel] = {}
        self.tags = TagEditor(body)
        self.open_button = QPushButton(icon("open"), "Open", body)
        self.reveal_button = QPushButton(icon("folder"), "Show in Folder", body)
        self.open_button.clicked.connect(self.open_requested)
        self.reveal_button.clicked.connect(self.reveal_requested)
        self._lay_out(body)
        self.setWidget(body)
        self.records: tuple[FileRecord, ...] = ()
        self.owner_names: dict[uuid.UUID, str] = {}
        """Who the owners are, by user id (set by the window for each library)."""
        self.show_records(())

    def _lay_out(self, body: QWidget) -> None:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for name in _FIELDS:
            self.values[name] = (
                _id_field(body) if name == "File ID" else _value_label(body, name == "SHA-256")
            )
            self.names[name] = _field_label(body, name)
            form.addRow(self.names[name], self.values[name])
        self.names["Tags"] = _field_label(body, "Tags")
        form.addRow(self.names["Tags"], self.tags)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.setSpacing(10)
        for widget in (self.preview, self.title, self.hint):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addStretch(1)

    def show_records(self, records: Sequence[FileRecord]) -> None:
        """Show one file in full, a summary of several, or the empty hint."""
        self.records = tuple(records)
        if len(self.records) == 1:
            self._show_one(self.records[0])
        else:
            self._show_many(self.records)

    def set_preview(self, pixmap: QPixmap | None) -> None:
        """Show a thumbnail (when it arrives) or the file type icon."""
        if len(self.records) != 1:
            return
        if pixmap is None or pixmap.isNull():
            family = type_family(self.records[0].content_type)
            pixmap = type_icon(family).pixmap(QSize(96, 96))
        else:
            pixmap = pixmap.scaled(
                PREVIEW,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.preview.setPixmap(pixmap)

    def _owner(self, owner_id: uuid.UUID | None) -> str:
        if owner_id is None:
            return "No owner"
        return self.owner_names.get(owner_id) or f"Another user ({str(owner_id)[:8]}…)"

    def _show_one(self, record: FileRecord) -> None:
        self.title.setText(record.filename)
        self.hint.hide()
        values = {
            "Path": record.file_path,
            "Folder": record.directory,
            "Size": exact_size(record.file_size),
            "Type": record.content_type,
            "Modified": full_time(record.modified),
            "Indexed": full_time(record.upload_time),
            "SHA-256": _grouped(record.hash_value) if record.hash_value else "Not hashed yet",
            "Owner": self._owner(record.owner_id),
            "Access": record.access.value.capitalize() if record.access else "Full",
            "File ID": str(record.id),
        }
        self._fill(values)
        self.tags.set_tags(record.tags)
        self._set_enabled(True, can_open=True)
        self.set_preview(None)

    def _show_many(self, records: Sequence[FileRecord]) -> None:
        self.preview.setPixmap(icon("library").pixmap(QSize(72, 72)))
        if not records:
            self.title.setText("No file selected")
            self.hint.show()
            self._fill({})
            self.tags.set_tags(())
            self._set_enabled(False, can_open=False)
            return
        self.hint.hide()
        total = sum(record.file_size for record in records)
        self.title.setText(f"{count_noun(len(records), 'file')} selected")
        self._fill({"Size": f"{human_size(total)} in total"})
        common = set(records[0].tags).intersection(*(r.tags for r in records[1:]))
        self.tags.set_tags(sorted(common, key=str.lower))
        self._set_enabled(True, can_open=False)

    def _fill(self, values: dict[str, str]) -> None:
        for name, label in self.values.items():
            text = values.get(name, "")
            label.setText(text)
            if isinstance(label, QLineEdit):
                label.setCursorPosition(0)  # show the start of a long ID
            label.setVisible(bool(text))
            self.names[name].setVisible(bool(text))

    def _set_enabled(self, tags: bool, can_open: bool) -> None:
        self.tags.setEnabled(tags)
        self.tags.setVisible(tags)
        self.names["Tags"].setVisible(tags)
        self.open_button.setVisible(can_open)
        self.reveal_button.setVisible(can_open)


def _field_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(name, parent)
    label.setObjectName(f"field-{name}")
    label.setProperty("role", "fieldName")
    return label


def _value_label(parent: QWidget, mono: bool) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    # Ignored: a long path must never widen the pane; it wraps to the width it gets.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setProperty("role", "fieldValue")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if mono:
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label


def _grouped(digest: str, width: int = 16) -> str:
    """Hex digest in groups of 16 so it wraps inside the pane."""
    return " ".join(digest[i : i + width] for i in range(0, len(digest), width))


def _id_field(parent: QWidget) -> QLineEdit:
    """A UUID has no place to wrap: a read-only line that scrolls and copies exactly."""
    field = QLineEdit(parent)
    field.setObjectName("idField")
    field.setReadOnly(True)
    field.setFrame(False)
    field.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    field.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    field.setCursorPosition(0)
    return field
