"""Scan progress in the status bar: what is being scanned, files, rate, ETA, and Cancel."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from filemeta_gui.ui.formatting import human_duration
from filemeta_gui.ui.resources import icon


@dataclass(frozen=True, slots=True)
class ProgressView:
    """What the widget shows; built from a service progress event by the controller."""

    folder: str
    phase: str
    """What is happening, as a verb: "Indexing", "Hashing"."""
    done: int
    unit: str = "files"
    total: int | None = None
    fraction: float | None = None
    """Share done (0..1) for the bar; None shows a busy bar."""
    rate: float | None = None
    """``unit`` per second."""
    eta_seconds: float | None = None


class ScanProgressWidget(QWidget):
    """Hidden while nothing runs. ``cancel_requested`` when the user presses Cancel."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanProgress")
        self.label = QLabel(self)
        self.label.setObjectName("scanLabel")
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(12)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setIcon(icon("cancel"))
        self.cancel_button.setIconSize(QSize(14, 14))
        self.cancel_button.setToolTip("Cancel the scan")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(8)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, folder: str) -> None:
        self.cancel_button.setEnabled(True)
        self.show_progress(ProgressView(folder=folder, phase="Starting", done=0))
        self.show()

    def show_progress(self, view: ProgressView) -> None:
        parts = [f"{view.phase} {view.folder}"]
        if view.total:
            parts.append(f"{view.done:,} of {view.total:,} {view.unit}")
        else:
            parts.append(f"{view.done:,} {view.unit}")
        if view.rate:
            parts.append(f"{view.rate:,.0f} {view.unit}/s")
        eta = human_duration(view.eta_seconds)
        if eta:
            parts.append(f"about {eta} left")
        self.label.setText(" · ".join(parts))
        if view.fraction is None:
            self.bar.setRange(0, 0)  # a busy bar while the total is unknown
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(1000 * min(max(view.fraction, 0.0), 1.0)))

    def finish(self) -> None:
        self.hide()

    @property
    def text(self) -> str:
        return self.label.text()

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("Cancelling…")
        self.cancel_requested.emit()
