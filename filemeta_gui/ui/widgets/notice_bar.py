"""A quiet bar above the file list for lasting facts about the library.

"You are not registered in this library", "read-only: made by a newer FileMeta", "an
upgrade is available": things a person should see while working, not a dialog to dismiss.
One optional button offers the action that resolves the notice.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class NoticeBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setStyleSheet(
            "#noticeBar { background: #e8f0fe; border-bottom: 1px solid #b6c9f0; }"
            "#noticeBar QLabel { color: #1a3a6b; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.button = QPushButton(self)
        self._action: Callable[[], None] | None = None
        self.button.clicked.connect(self._clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(QLabel("ℹ", self))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_notice(
        self, message: str, action: str = "", on_action: Callable[[], None] | None = None
    ) -> None:
        self.label.setText(message)
        self._action = on_action
        self.button.setText(action)
        self.button.setVisible(bool(action and on_action))
        self.show()

    def clear(self) -> None:
        self._action = None
        self.hide()

    def _clicked(self) -> None:
        if self._action is not None:
            self._action()
