"""Small dialogs for tags: a name (create, rename), a target (merge), a parent.

They are opened with ``open()`` (window-modal, non-blocking) and report through
``accepted``; a nested ``exec()`` inside a qasync task would re-enter the event loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.records import TagRecord

NO_PARENT = "(none — a top-level tag)"


class _Base(QDialog):
    def __init__(self, title: str, message: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        self.message = QLabel(message, self)
        self.message.setWordWrap(True)
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(self.form)
        layout.addWidget(self.buttons)

    @property
    def ok_button(self) -> QWidget:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button


class TagNameDialog(_Base):
    """Asks for a tag name (new tag, rename); OK is enabled once the name is usable."""

    def __init__(
        self,
        title: str,
        message: str,
        name: str = "",
        taken: Sequence[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, message, parent)
        self._taken = {t.casefold() for t in taken if t != name}
        self.name_edit = QLineEdit(name, self)
        self.name_edit.setObjectName("tagNameEdit")
        self.name_edit.selectAll()
        self.problem = QLabel(self)
        self.problem.setObjectName("formProblem")
        self.form.addRow("Name:", self.name_edit)
        self.form.addRow("", self.problem)
        self.name_edit.textChanged.connect(self._check)
        self._check()

    @property
    def name(self) -> str:
        return " ".join(self.name_edit.text().split())

    def _check(self) -> None:
        name = self.name
        problem = ""
        if not name:
            problem = "Enter a name."
        elif len(name) > 100:
            problem = "A tag name has at most 100 characters."
        elif name.casefold() in self._taken:
            problem = f"A tag “{name}” already exists (merge the tags instead)."
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem) and bool(self.name_edit.text()))
        self.ok_button.setEnabled(not problem)


class TagChoiceDialog(_Base):
    """Picks one tag from a list (merge target, new parent)."""

    def __init__(
        self,
        title: str,
        message: str,
        tags: Sequence[TagRecord],
        exclude: set[uuid.UUID],
        allow_none: bool = False,
        current: uuid.UUID | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, message, parent)
        self.combo = QComboBox(self)
        self.combo.setObjectName("tagChoice")
        if allow_none:
            self.combo.addItem(NO_PARENT, None)
        for tag in sorted(tags, key=lambda t: t.name.lower()):
            if tag.id not in exclude:
                self.combo.addItem(tag.name, tag.id)
        if current is not None:
            self.combo.setCurrentIndex(max(self.combo.findData(current), 0))
        self.form.addRow("Tag:", self.combo)
        self.ok_button.setEnabled(self.combo.count() > 0)

    @property
    def chosen_id(self) -> uuid.UUID | None:
        value = self.combo.currentData()
        return value if isinstance(value, uuid.UUID) else None

    def choose(self, name: str) -> bool:
        index = self.combo.findText(name)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0
