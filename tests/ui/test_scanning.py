"""Scanning as a user sees it: progress in the status bar, cancel, rescan, remove."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.scan import ScanPhase, ScanProgress
from filemeta_gui.ui.models.sidebar_model import SidebarKind
from filemeta_gui.ui.scan_controller import progress_view
from tests.ui.conftest import wait_idle, wait_scanned


def many_files(root: Path, count: int) -> Path:
    root.mkdir()
    for index in range(count):
        folder = root / f"part{index // 500:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"note_{index:05d}.txt").write_text(f"note {index}\n" * (1 + index % 5))
    return root


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
