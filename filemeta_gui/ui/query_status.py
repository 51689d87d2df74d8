"""What the status bar says while another query or order of the list is on its way.

Until the new rows arrive, the list keeps showing the old ones, which would otherwise look
like the answer. Most queries answer within a frame or two, so nothing is said for the
first ``SHOW_AFTER_MS``; a slower one (on a shared server, a common word in some orders
takes a second at a million files) is named in the status bar until its rows are in.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from filemeta_gui.ui.models.file_columns import COLUMNS
from filemeta_gui.ui.models.file_table_model import FileTableModel

SHOW_AFTER_MS = 150
"""Saying "Searching…" for a query that answers sooner would only flicker."""


class PendingQuery(QObject):
    """Watches ``model``'s loading; ``changed`` when :meth:`text` may have changed."""

    changed = Signal()

    def __init__(self, model: FileTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self.timer = QTimer(self)
        """Started with each load; :meth:`text` says nothing while it runs."""
        self.timer.setSingleShot(True)
        self.timer.setInterval(SHOW_AFTER_MS)
        self.timer.timeout.connect(self.changed)
        model.loading_changed.connect(self._loading_changed)

    def text(self) -> str | None:
        """ "Searching for “img”…" or "Sorting by Type…" once a query or order other than
        the one on screen has run for ``SHOW_AFTER_MS``; None otherwise (a refresh of the
        rows on screen says nothing)."""
        model = self._model
        if self.timer.isActive() or not model.loader.loading:
            return None
        asked, shown = model.requested(), model.shown
        if asked.query != shown.query:
            return f"Searching for “{asked.query}”…" if asked.query else "Showing all files…"
        if asked != shown:  # named as its column's header, which was clicked
            return f"Sorting by {COLUMNS[model.sort_section()].title}…"
        return None

    def _loading_changed(self, loading: bool) -> None:
        if loading:
            self.timer.start()
        else:
            self.timer.stop()
        self.changed.emit()
