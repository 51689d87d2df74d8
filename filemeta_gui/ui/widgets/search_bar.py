"""The search box: results follow typing after a short pause; bad syntax gets a hint.

The box only decides *when* a query is run (debounce); the file model cancels the query it
replaces. A ``QuerySyntaxError`` from the services comes back through :meth:`show_error`
and is shown under the box with a caret at the offending position — never as a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from filemeta_gui.ui.resources import icon

DEBOUNCE_MS = 250
PLACEHOLDER = "Search files — e.g.  holiday type:image size:>1MB tag:family -draft"


class SearchBar(QWidget):
    """Line edit plus hint label.

    Signals:
        query_changed(str): the text the user settled on (after the debounce, or at once
            on Return).
        save_requested(str): the user asked to save the current query.
    """

    query_changed = Signal(str)
    save_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText(PLACEHOLDER)
        self.edit.setClearButtonEnabled(True)
        self.edit.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.save_action = QAction(icon("bookmark"), "Save this search…", self)
        self.save_action.triggered.connect(self._save)
        self.edit.addAction(self.save_action, QLineEdit.ActionPosition.TrailingPosition)
        self.save_action.setVisible(False)  # after addAction, which shows it
        self.hint = QLabel(self)
        self.hint.setObjectName("searchHint")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._emit)
        self._last_emitted: str | None = None
        self.edit.textEdited.connect(self._restart)
        self.edit.textChanged.connect(self._update_save_action)
        self.edit.returnPressed.connect(self._emit)

    @property
    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str, *, emit: bool = True) -> None:
        """Replace the query (a sidebar click); runs it at once."""
        self._timer.stop()
        self.edit.setText(text)
        self.clear_error()
        if emit:
            self._emit()

    def focus(self) -> None:
        self.edit.setFocus()
        self.edit.selectAll()

    def show_error(self, message: str, position: int | None = None) -> None:
        """Show why the query was rejected, pointing at ``position`` when given."""
        text = message
        query = self.text
        if position is not None and 0 <= position <= len(query):
            before, after = query[:position], query[position:]
            text = f"{message}  ·  {_escape(before)}<b><u>{_escape(after[:1]) or '␣'}</u></b>"
            text += _escape(after[1:])
        self.hint.setText(text)
        self.hint.show()
        self.edit.setProperty("invalid", True)
        _repolish(self.edit)

    def clear_error(self) -> None:
        if self.hint.isVisible() or self.edit.property("invalid"):
            self.hint.hide()
            self.edit.setProperty("invalid", False)
            _repolish(self.edit)

    @property
    def pending(self) -> bool:
        """True while a query waits for the debounce to run."""
        return self._timer.isActive()

    def _restart(self) -> None:
        self._timer.start()

    def _emit(self) -> None:
        self._timer.stop()
        text = self.text
        if text == self._last_emitted:
            return
        self._last_emitted = text
        self.query_changed.emit(text)

    def _save(self) -> None:
        if self.text:
            self.save_requested.emit(self.text)

    def _update_save_action(self, text: str) -> None:
        self.save_action.setVisible(bool(text.strip()))

    def forget_last(self) -> None:
        """Let the same text run again (after switching libraries)."""
        self._last_emitted = None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)
