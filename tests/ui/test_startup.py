"""Start and stop: the empty-state screen, restored layout, a clean quit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from filemeta_gui.app import parse_args
from tests.ui.conftest import run
from tests.ui.test_window_menus import pick_folder, shown_names, some_files

QT_NOISE = ("propagateSizeHints",)  # the offscreen platform plugin's own chatter


def test_new_library_shows_an_invitation_to_add_a_folder(window: Any) -> None:
    assert window.ui.page == "empty"
    assert window.ui.empty.mode == "library"
    assert window.ui.empty.button.isVisible()
    assert "Add Folder" in window.ui.empty.button.text()
    assert window.model.rowCount() == 0
    assert "library" in window.library_label.toolTip().lower()


def test_the_add_folder_button_of_the_empty_library_scans_the_chosen_folder(
    window: Any, qtbot: QtBot, tmp_path: Path
) -> None:
    added = some_files(tmp_path / "first")
    qtbot.mouseClick(window.ui.empty.button, Qt.MouseButton.LeftButton)
    pick_folder(qtbot, window, tmp_path / "first")

    assert window.ui.page == "table", "the empty screen gives way to the files"
    assert shown_names(window) == added
    assert [f.file_count for f in window.sidebar_model.folders] == [len(added)]


def test_quit_closes_the_window_and_shutdown_closes_the_library(
    window: Any, qtbot: QtBot, qloop: Any
) -> None:
    with qtbot.waitSignal(window.closed):
        window.acts.quit.trigger()
    run(qtbot, qloop, window.shutdown())
    assert window.services is None
    assert window.tasks.idle


def test_ctrl_q_closes_the_window(window: Any, qtbot: QtBot, qloop: Any) -> None:
    assert window.isVisible()
    with qtbot.waitSignal(window.closed, timeout=5_000):
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()
    run(qtbot, qloop, window.shutdown())
    assert window.services is None and window.tasks.idle


def test_window_layout_is_restored(qtbot: QtBot, qloop: Any) -> None:
    from filemeta_gui.ui.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(711, 577)  # the offscreen screen is 800×800: stay inside it
    first.set_view("grid")
    first.acts.toggle_details.setChecked(False)
    QApplication.processEvents()  # lay the smaller window out before sizing its panes
    first.ui.splitter.setSizes([150, 600, 0])
    sidebar_width = first.ui.splitter.sizes()[0]
    assert sidebar_width < 200, "narrower than the 230 px a new window starts with"
    size = first.size()
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    assert second.size() == size and size.height() == 577
    assert second.ui.splitter.sizes()[0] == sidebar_width
    assert second.ui.view_mode == "grid"
    assert second.ui.detail.isHidden()
    assert QSettings().fileName().startswith(os.environ["FILEMETA_DATA_DIR"])


def test_command_line_options() -> None:
    args, rest = parse_args(
        ["--db", "sqlite:////tmp/x.sqlite3", "--metrics-port", "9464", "-platform", "offscreen"]
    )
    assert args.db == "sqlite:////tmp/x.sqlite3"
    assert args.metrics_port == 9464
    assert rest == ["-platform", "offscreen"]


def test_the_app_starts_on_a_new_default_library_and_quits_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONWARNINGS": "default"}
    data = Path(env["FILEMETA_DATA_DIR"])
    command = [sys.executable, "-m", "filemeta_gui", "--quit-after", "1500"]
    finished = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )

    noise = [
        line
        for line in finished.stderr.splitlines()
        if line.strip() and not any(n in line for n in QT_NOISE)
    ]
    assert finished.returncode == 0, finished.stderr
    assert noise == [], "warnings or tracebacks on quit:\n" + finished.stderr
    assert (data / "library.sqlite3").is_file(), "the default library is created"
    settings = (data / "settings" / "FileMeta" / "FileMeta.ini").read_text()
    assert "geometry" in settings

    again = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert again.returncode == 0 and "Traceback" not in again.stderr


def test_metrics_port_serves_the_library_monitor(window: Any) -> None:
    import urllib.request

    from filemeta_gui.app import start_metrics

    server = start_metrics(window.services, 0)
    try:
        with urllib.request.urlopen(server.url, timeout=10) as response:
            body = response.read().decode()
    finally:
        server.close()
    assert "query_duration_seconds" in body


def test_a_library_that_cannot_open_is_explained_and_connect_is_offered(
    qtbot: QtBot, qloop: Any, tmp_path: Path
) -> None:
    from filemeta_gui.app import open_library
    from filemeta_gui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    missing = tmp_path / "no such folder" / "library.sqlite3"
    services = run(qtbot, qloop, open_library(window, f"sqlite:///{missing}"))

    assert services is None and window.services is None
    dialog = window.errors.dialog
    assert dialog is not None and "does not exist" in dialog.text()
    assert window.menus.dialog is not None and window.menus.dialog.objectName() == "connectDialog"
    window.menus.dialog.reject()
    dialog.accept()
