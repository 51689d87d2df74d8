"""Renders the main window over a sample library to a PNG a person can look at.

The image goes to pytest's temporary folder and, when ``FILEMETA_SCREENSHOT_DIR`` is
set, is copied there too (CI keeps it as an artifact).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from tests.ui.conftest import wait_idle, wait_scanned
from tests.ui.test_tags import select, tag_selection


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_main_window_screenshot(
    window: Any, qtbot: QtBot, sample_tree: Path, tmp_path: Path
) -> None:
    window.resize(1440, 860)
    wait_scanned(qtbot, window, sample_tree)
    select(window, "beach_sunset.jpg", "mountain_lake.jpg", "forest_path.jpg")
    tag_selection(qtbot, window, "holiday")
    select(window, "meeting_notes.txt")
    tag_selection(qtbot, window, "work")
    select(window, "beach_sunset.jpg")
    record = window.ui.detail.records[0]
    qtbot.waitUntil(lambda: window.thumbnails.get(record) is not None)
    wait_idle(qtbot, window)

    path = tmp_path / "main_window.png"
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() >= 1200 and image.height() >= 700
    target = os.environ.get("FILEMETA_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / "main_window.png")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_empty_library_screenshot(window: Any, tmp_path: Path) -> None:
    window.resize(1280, 800)
    path = tmp_path / "empty_library.png"
    assert window.grab().save(str(path))
    target = os.environ.get("FILEMETA_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / "empty_library.png")
