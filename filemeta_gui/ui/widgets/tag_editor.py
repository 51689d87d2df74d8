"""Tags of the selected files as removable chips, and a box to add one with completion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLayout,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.ui.widgets.flow_layout import FlowLayout


class TagEditor(QWidget):
    """Signals ``tag_added(name)`` and ``tag_removed(name)``; the window applies them."""

    tag_added = Signal(str)
    tag_removed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chips = QWidget(self)
        self._flow = FlowLayout(self._chips, spacing=4)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("tagEdit")
        self.edit.setPlaceholderText("Add a tag…")
        self._names = QStringListModel(self)
        self.completer = QCompleter(self._names, self)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.edit.setCompleter(self.completer)
        self.edit.returnPressed.connect(self._add_typed)
        self.completer.activated.connect(self._add_completed)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._chips)
        layout.addLayout(row)
        self._tags: tuple[str, ...] = ()

    def set_known_tags(self, names: Iterable[str]) -> None:
        """Names offered by the completer (every tag of the library)."""
        self._names.setStringList(sorted(set(names), key=str.lower))

    def set_tags(self, names: Sequence[str]) -> None:
        """The tags shown as chips (those every selected file has)."""
        self._tags = tuple(names)
        _clear(self._flow)
        for name in self._tags:
            self._flow.addWidget(self._chip(name))
        self._chips.setVisible(bool(self._tags))

    @property
    def tags(self) -> tuple[str, ...]:
        return self._tags

    def _chip(self, name: str) -> QToolButton:
        chip = QToolButton(self._chips)
        chip.setObjectName("tagChip")
        chip.setText(f"{name}  ✕")
        chip.setToolTip(f"Remove the tag “{name}”")
        chip.setCursor(Qt.CursorShape.PointingHandCursor)
        chip.setIconSize(QSize(0, 0))
        chip.clicked.connect(lambda: self.tag_removed.emit(name))
        return chip

    def _add_typed(self) -> None:
        # With a suggestion highlighted the completer handles Return itself (``activated``
        # follows): adding here too would add the typed prefix as well.
        popup = self.completer.popup()
        if popup is not None and popup.isVisible():
            if popup.currentIndex().isValid():
                return
            popup.hide()
        self._add(self.edit.text())

    def _add_completed(self, text: str) -> None:
        self._add(text)

    def _add(self, text: str) -> None:
        name = " ".join(text.split())
        # Clear after the completer has written its choice into the box.
        QTimer.singleShot(0, self.edit.clear)
        if name:
            self.tag_added.emit(name)


def _clear(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
