"""Adding, scanning, rescanning and removing folders, with progress in the status bar.

Scans run one after another from a queue in a single task (key ``"scan"``), each in a
child process (``FolderService.scan(isolated=True)``): the scan's threads would otherwise
hold this process's GIL and stall the window for 100+ ms at a time. While one runs, the
file list and the sidebar are refreshed at most every :data:`REFRESH_INTERVAL_S` seconds,
so new rows appear as batches land without the window re-querying for every event — and
never more often than the refreshes can afford: each waits :data:`REFRESH_COST_FACTOR`
times as long as the previous one took. While a first load has the library's indexes
dropped, one refresh's queries take seconds of a core (counting per folder without an
index), and refreshing every second kept this process at 75% of a core and made every
repaint wait for the processor.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import deque
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from filemeta_gui.domain.records import FolderRecord
from filemeta_gui.domain.scan import ScanPhase, ScanProgress
from filemeta_gui.ui.formatting import count_noun
from filemeta_gui.ui.models.sidebar_model import ID_ROLE, KIND_ROLE, SidebarKind
from filemeta_gui.ui.widgets.scan_progress import ProgressView

if TYPE_CHECKING:
    from filemeta_gui.ui.main_window import MainWindow

REFRESH_INTERVAL_S = 1.0
REFRESH_COST_FACTOR = 4.0
SCAN_KEY = "scan"


class ScanController(QObject):
    """Signals ``scan_finished(folder_path)`` after each folder (also when cancelled), and
    ``progressed(ScanProgress)`` for every snapshot.

    ``isolated`` (default True) runs scans in a child process; False runs them in this
    process, for comparison (``benchmarks/bench_gui_scan.py --in-process``).
    """

    scan_finished = Signal(str)
    progressed = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.isolated = True
        self._queue: deque[FolderRecord] = deque()
        self._current: FolderRecord | None = None
        self.clock = time.monotonic  # replaceable in tests
        self._next_refresh = 0.0
        self._refresh_started: float | None = None
        self.dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None
        a = window.acts
        a.add_folder.triggered.connect(self.choose_folder)
        a.rescan.triggered.connect(self.rescan_selected)
        a.rescan_all.triggered.connect(self.rescan_all)
        a.remove_folder.triggered.connect(self.confirm_remove_selected)
        window.ui.scan_progress.cancel_requested.connect(self.cancel)

    @property
    def running(self) -> bool:
        return self.window.tasks.running(SCAN_KEY)

    # --- commands ---------------------------------------------------------------------

    def choose_folder(self) -> None:
        """Ask for a folder (non-blocking dialog), then add and scan it."""
        dialog = QFileDialog(self.window, "Add a Folder to the Library")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.add_folder)
        self.dialog = dialog
        dialog.open()

    def add_folder(self, path: str) -> None:
        if path:
            self.window.tasks.start(self._add(path))

    def rescan_selected(self) -> None:
        """F5: rescan the folder selected in the sidebar, or every folder."""
        folder = self.selected_folder()
        if folder is None:
            self.rescan_all()
        else:
            self.enqueue([folder])

    def rescan_all(self) -> None:
        self.enqueue(self.window.sidebar_model.folders)

    def enqueue(self, folders: list[FolderRecord]) -> None:
        known = {f.id for f in self._queue} | ({self._current.id} if self._current else set())
        self._queue.extend(f for f in folders if f.id not in known)
        if self._queue and not self.running:
            self.window.tasks.start(self._run_queue(), key=SCAN_KEY)

    def cancel(self) -> None:
        """Stop the running scan and forget the queued ones."""
        self._queue.clear()
        self.window.tasks.cancel(SCAN_KEY)

    def selected_folder(self) -> FolderRecord | None:
        index = self.window.ui.sidebar.currentIndex()
        if not index.isValid() or index.data(KIND_ROLE) != SidebarKind.FOLDER:
            return None
        folder_id = index.data(ID_ROLE)
        return next((f for f in self.window.sidebar_model.folders if f.id == folder_id), None)

    def confirm_remove_selected(self) -> None:
        folder = self.selected_folder()
        if folder is not None:
            self.confirm_remove(folder)

    def confirm_remove(self, folder: FolderRecord) -> None:
        """Ask, then forget ``folder`` and its files (nothing on disk is touched)."""
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove Folder")
        box.setText(f"Remove “{folder.path}” from the library?")
        box.setInformativeText(
            f"{count_noun(folder.file_count, 'file')} and their tags leave the library. "
            "Nothing is deleted from the disk."
        )
        remove = box.addButton("Remove Folder", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished() -> None:
            if box.clickedButton() is remove:
                self.remove_folder(folder.id)
            self.confirm_box = None

        box.finished.connect(finished)
        self.confirm_box = box
        box.open()

    def remove_folder(self, folder_id: uuid.UUID) -> None:
        self.window.tasks.start(self._remove(folder_id))

    # --- work -------------------------------------------------------------------------

    async def _add(self, path: str) -> None:
        services = self.window.services
        if services is None:
            return
        folder = await services.folders.add(path)
        await self.window.reload_sidebar()
        self.enqueue([folder])

    async def _remove(self, folder_id: uuid.UUID) -> None:
        services = self.window.services
        if services is None:
            return
        if self._current is not None and self._current.id == folder_id:
            self.cancel()
        await services.folders.remove(folder_id)
        self.window.refresh(keep_rows=False)

    async def _run_queue(self) -> None:
        widget = self.window.ui.scan_progress
        try:
            while self._queue:
                self._current = self._queue.popleft()
                await self._scan(self._current)
        finally:
            self._current = None
            widget.finish()
            self.window.refresh()

    async def _scan(self, folder: FolderRecord) -> None:
        services = self.window.services
        if services is None:
            return
        widget = self.window.ui.scan_progress
        name = os.path.basename(folder.path.rstrip("/")) or folder.path
        widget.start(name)
        last: ScanProgress | None = None
        try:
            async for event in services.folders.scan(folder.id, isolated=self.isolated):
                last = event
                widget.show_progress(progress_view(event, name))
                self.progressed.emit(event)
                self._maybe_refresh()
        except asyncio.CancelledError:
            seen = count_noun(last.seen if last else 0, "file")
            self.window.statusBar().showMessage(
                f"Scan of {folder.path} cancelled after {seen}.", 8000
            )
            raise
        finally:
            self.scan_finished.emit(folder.path)
        self.window.statusBar().showMessage(finished_message(folder.path, last), 8000)

    def _maybe_refresh(self) -> None:
        """Refresh the list and the sidebar every so often, never two at once, and never
        more than a fifth of the time: their queries cannot be stopped once they run in
        SQLite, and while a big first load has the indexes dropped they are slow."""
        if self.refreshing:
            return
        now = self.clock()
        if self._refresh_started is not None:  # the last one has ended (at most this long)
            cost = now - self._refresh_started
            self._next_refresh = now + max(REFRESH_INTERVAL_S, REFRESH_COST_FACTOR * cost)
            self._refresh_started = None
        if now < self._next_refresh:
            return
        self._refresh_started = now
        self.window.refresh()

    @property
    def refreshing(self) -> bool:
        return self.window.model.loading or self.window.tasks.running("sidebar")


_PHASES = {
    ScanPhase.STARTING: "Starting",
    ScanPhase.WALKING: "Indexing",
    ScanPhase.RESOLVING: "Matching moved files in",
    ScanPhase.HASHING: "Hashing",
    ScanPhase.THUMBNAILS: "Making thumbnails for",
    ScanPhase.FINISHED: "Finishing",
}


def progress_view(event: ScanProgress, folder: str) -> ProgressView:
    """What the status bar shows for one ``ScanProgress`` snapshot."""
    phase = _PHASES.get(event.phase, "Scanning")
    eta, rate = event.eta_seconds, event.rate or None
    if event.phase == ScanPhase.HASHING:
        fraction = event.bytes_hashed / event.bytes_to_hash if event.bytes_to_hash else None
        return ProgressView(
            folder, phase, event.hashed, fraction=fraction, rate=rate, eta_seconds=eta
        )
    if event.phase == ScanPhase.THUMBNAILS:
        return ProgressView(folder, phase, event.thumbnails, unit="images")
    total = event.expected_files
    fraction = min(event.seen / total, 1.0) if total else None
    return ProgressView(
        folder, phase, event.seen, total=total, fraction=fraction, rate=rate, eta_seconds=eta
    )


def finished_message(path: str, event: ScanProgress | None) -> str:
    if event is None:
        return f"Scanned {path}."
    if event.cancelled:
        return f"Scan of {path} cancelled after {count_noun(event.seen, 'file')}."
    parts = [f"{event.new:,} new", f"{event.changed:,} changed", f"{event.removed:,} removed"]
    if event.moved:
        parts.append(f"{event.moved:,} moved")
    if event.errors:
        parts.append(f"{count_noun(event.errors, 'problem')}")
    return f"Scanned {path}: {count_noun(event.seen, 'file')} ({', '.join(parts)})."
