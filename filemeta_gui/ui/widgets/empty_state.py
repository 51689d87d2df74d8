"""The screens shown instead of an empty table: a new library, or a search with no match."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from filemeta_gui.ui.resources import ICONS_DIR, icon


class EmptyState(QWidget):
    """A centred picture, a title, a line of help and an optional button."""

    add_folder_requested = Signal()
    clear_search_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(self)
        self.title.setObjectName("emptyTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(self)
        self.message.setObjectName("emptyMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(340)
        self.message.setMaximumWidth(440)
        self.button = QPushButton(self)
        self.button.setObjectName("primaryButton")
        self.button.setMinimumHeight(34)
        self.button.clicked.connect(self._clicked)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(12)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignHCenter)
        # No alignment flag here: an aligned word-wrapped label gets the height of one
        # line; stretches on both sides centre it with its height-for-width intact.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.message)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addSpacing(16)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self._mode = "library"
        self.show_empty_library()

    @property
    def mode(self) -> str:
        return self._mode

    def show_empty_library(self) -> None:
        self._mode = "library"
        picture = ICONS_DIR / "empty-library.svg"
        source = icon("empty-library") if picture.is_file() else icon("folder-add")
        self.picture.setPixmap(source.pixmap(QSize(160, 128)))
        self.title.setText("Your library is empty")
        self.message.setText(
            "Add a folder and FileMeta indexes its files: you can then search, tag and "
            "find duplicates. You can also drop a folder onto this window."
        )
        self.button.setText("Add Folder…")
        self.button.setIcon(icon("folder-add"))
        self.button.show()

    def show_no_match(self, query: str) -> None:
        self._mode = "no-match"
        self.picture.setPixmap(icon("search").pixmap(QSize(72, 72)))
        self.title.setText("No files match")
        self.message.setText(f"Nothing in the library matches “{query}”.")
        self.button.setText("Clear Search")
        self.button.setIcon(icon("cancel"))
        self.button.show()

    def _clicked(self) -> None:
        if self._mode == "library":
            self.add_folder_requested.emit()
        else:
            self.clear_search_requested.emit()
