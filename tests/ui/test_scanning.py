"""Scanning as a user sees it: progress in the status bar, cancel, rescan, remove."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.scan import ScanOptions, ScanPhase, ScanProgress
from filemeta_gui.services.indexer import hashing
from filemeta_gui.services.indexer import scanner as scanner_module
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import scan_folder
from filemeta_gui.ui.models.file_columns import HASH
from filemeta_gui.ui.models.sidebar_model import SidebarKind
from filemeta_gui.ui.scan_controller import progress_view
from tests.ui.conftest import wait_idle, wait_scanned

SMALL_FILES = 8
BIG_FILE = "big.bin"


def many_files(root: Path, count: int) -> Path:
    root.mkdir()
    for index in range(count):
        folder = root / f"part{index // 500:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"note_{index:05d}.txt").write_text(f"note {index}\n" * (1 + index % 5))
    return root


def small_and_big(root: Path) -> Path:
    """Small files of one size (hashed first, in one pack) and a big file in a pack of its own."""
    root.mkdir()
    for index in range(SMALL_FILES):
        (root / f"note_{index}.txt").write_text(f"note {index}\n" * 20)
    with (root / BIG_FILE).open("wb") as big:
        big.truncate(hashing.PACK_BYTES + (2 << 20))  # sparse: quick to make and to read
    return root


class HashHold:
    """Holds the hashing of one file after its first chunk until :attr:`released` is set:
    the scan goes on running and reporting progress (hashing ticks) meanwhile."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.released = threading.Event()

    def after_chunk(self, path: str, _attempt: int) -> None:  # in a hashing thread
        if os.path.basename(path) == self.name:
            self.released.wait(timeout=30)  # bounded: a failing test never hangs the run


@pytest.fixture
def held_scans(window: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[HashHold]:
    """Scans the window starts run in this process (hooks cannot reach a child process),
    write batches of 2 rows, and hold on :data:`BIG_FILE` until released."""
    hold = HashHold(BIG_FILE)

    def held(
        database: Any,
        folder_id: uuid.UUID,
        options: ScanOptions | None = None,
        *,
        owner_id: uuid.UUID | None = None,
    ) -> AsyncIterator[ScanProgress]:
        options = replace(options or ScanOptions(), batch_size=2)
        hooks = ScanHooks(after_chunk=hold.after_chunk)
        return scan_folder(database, folder_id, options, owner_id=owner_id, hooks=hooks)

    # FolderService.scan imports it when it scans in process.
    monkeypatch.setattr(scanner_module, "scan_folder", held)
    window.scan.isolated = False
    yield hold
    hold.released.set()  # before the window's teardown cancels and joins the scan


def shown(window: Any) -> dict[str, int]:
    return {window.model.record(r).filename: r for r in range(window.model.rowCount())}


def test_progress_shows_in_the_status_bar_and_cancel_stops_the_scan(
    window: Any, qtbot: QtBot, tmp_path: Path
) -> None:
    tree = many_files(tmp_path / "big", 6000)
    progress = window.ui.scan_progress
    window.scan.add_folder(str(tree))
    qtbot.waitUntil(lambda: progress.isVisible() and "files" in progress.text)
    assert progress.text.startswith(("Starting big", "Indexing big"))

    with qtbot.waitSignal(window.scan.scan_finished, timeout=30_000):
        qtbot.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert not progress.isVisible()
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.model.total is not None and window.model.total < 6000
    assert not window.scan.running


def test_the_status_bar_shows_files_rate_and_time_left_and_cancel_stops_the_scan(
    window: Any, qtbot: QtBot, tmp_path: Path, held_scans: HashHold
) -> None:
    progress = window.ui.scan_progress
    window.scan.add_folder(str(small_and_big(tmp_path / "mixed")))
    # While the big file is hashed, both a rate and a time left are known.
    qtbot.waitUntil(lambda: "/s" in progress.text and " left" in progress.text, timeout=10_000)
    pattern = (
        rf"Hashing mixed · {SMALL_FILES} files · [\d,]+ files/s · about \d+ (s|min \d+ s) left"
    )
    assert re.fullmatch(pattern, progress.text), progress.text
    assert progress.isVisible() and progress.bar.isVisible()
    button = progress.cancel_button
    assert button.isVisible() and button.isEnabled() and button.toolTip() == "Cancel the scan"

    with qtbot.waitSignal(window.scan.scan_finished, timeout=20_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert progress.text == "Cancelling…" and not button.isEnabled()
        held_scans.released.set()
    wait_idle(qtbot, window)
    assert not progress.isVisible() and not window.scan.running
    assert window.statusBar().currentMessage().startswith("Scan of ")
    assert "cancelled after" in window.statusBar().currentMessage()
    assert window.sidebar_model.folders[0].last_scan_at is None, "not recorded as scanned"
    assert len(shown(window)) == SMALL_FILES + 1, "what was committed stays"


def test_rows_appear_while_the_scan_is_still_running(
    window: Any, qtbot: QtBot, tmp_path: Path, held_scans: HashHold
) -> None:
    tree = small_and_big(tmp_path / "mixed")
    finished: list[str] = []
    window.scan.scan_finished.connect(finished.append)
    window.scan.add_folder(str(tree))

    qtbot.waitUntil(lambda: len(shown(window)) == SMALL_FILES + 1, timeout=10_000)
    assert finished == [] and window.scan.running and window.ui.scan_progress.isVisible()
    assert window.ui.page == "table"
    big = window.model.index(shown(window)[BIG_FILE], HASH)
    assert big.data() == "—", "still being hashed"

    with qtbot.waitSignal(window.scan.scan_finished, timeout=20_000):
        held_scans.released.set()
    wait_idle(qtbot, window)
    digest = hashlib.sha256((tree / BIG_FILE).read_bytes()).hexdigest()
    assert window.model.record(shown(window)[BIG_FILE]).hash_value == digest


def test_f5_rescans_the_selected_folder_and_shows_new_files(
    window: Any, qtbot: QtBot, sample_tree: Path
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    (sample_tree / "new_arrival.txt").write_text("fresh\n")
    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find(SidebarKind.FOLDER))
    window.ui.table.setFocus()

    with qtbot.waitSignal(window.scan.scan_finished, timeout=60_000):
        qtbot.keyClick(window.ui.table, Qt.Key.Key_F5)
    wait_idle(qtbot, window)
    found = {window.model.record(r).filename for r in range(window.model.rowCount())}
    assert "new_arrival.txt" in found
    assert "1 new" in window.statusBar().currentMessage()


def test_removing_a_folder_after_confirmation(window: Any, qtbot: QtBot, sample_tree: Path) -> None:
    wait_scanned(qtbot, window, sample_tree)
    window.ui.sidebar.setCurrentIndex(window.sidebar_model.find(SidebarKind.FOLDER))
    window.acts.remove_folder.trigger()
    box = window.scan.confirm_box
    assert box is not None and "Nothing is deleted from the disk" in box.informativeText()

    remove = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    with qtbot.waitSignal(window.sidebar_refreshed, timeout=20_000):
        qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert window.sidebar_model.folders == []
    assert window.model.rowCount() == 0
    assert window.ui.page == "empty"
    assert (sample_tree / "beach_sunset.jpg").exists()


def test_progress_text_for_each_phase() -> None:
    import uuid

    folder = uuid.uuid4()
    walking = ScanProgress(
        folder, ScanPhase.WALKING, seen=1500, expected_files=3000, rate=1234.0, eta_seconds=75
    )
    view = progress_view(walking, "photos")
    assert (view.phase, view.done, view.total, view.fraction) == ("Indexing", 1500, 3000, 0.5)
    hashing = ScanProgress(folder, ScanPhase.HASHING, hashed=10, bytes_hashed=25, bytes_to_hash=100)
    assert progress_view(hashing, "photos").fraction == 0.25
    assert progress_view(ScanProgress(folder, ScanPhase.WALKING), "x").fraction is None


def test_quitting_during_a_scan_cancels_it_and_closes_the_library(
    window: Any, qtbot: QtBot, qloop: Any, tmp_path: Path, caplog: Any
) -> None:
    from tests.ui.conftest import run

    tree = many_files(tmp_path / "big", 6000)
    window.scan.add_folder(str(tree))
    qtbot.waitUntil(lambda: window.ui.scan_progress.isVisible())
    services = window.services

    with qtbot.waitSignal(window.closed):
        window.acts.quit.trigger()
    run(qtbot, qloop, window.shutdown())
    assert window.services is None and window.tasks.idle
    assert services.database.engine.pool.checkedout() == 0
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_refreshes_during_a_scan_wait_in_proportion_to_their_cost(window: Any) -> None:
    """A refresh that took 2.5 s (a big load with the indexes dropped) is not followed by
    another for 4 × 2.5 s; a cheap one comes back after the one-second interval."""
    scan = window.scan
    refreshes: list[float] = []
    now = [100.0]
    scan.clock = lambda: now[0]
    window.refresh = lambda *args, **kwargs: refreshes.append(now[0])

    def at(moment: float) -> None:
        now[0] = moment
        scan._maybe_refresh()

    at(100.0)  # the first one at once
    at(102.5)  # it has ended: 2.5 s of queries
    at(110.0)
    at(112.4)
    assert refreshes == [100.0]
    at(112.6)  # 102.5 + 4 × 2.5
    at(112.7)  # ended after 0.1 s
    at(113.5)
    assert refreshes == [100.0, 112.6]
    at(113.8)  # the one-second floor
    assert refreshes == [100.0, 112.6, 113.8]
