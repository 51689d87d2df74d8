"""The error handler: every exception from an async slot or a task ends in one dialog;
a lost connection shows the banner, which retries until the database answers again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from qasync import asyncSlot

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.errors import ConnectionLostError, NotFoundError
from filemeta_gui.ui.errors import ConnectionBanner, ErrorHandler, report_exception
from filemeta_gui.ui.tasks import TaskRegistry


class Worker(QObject):
    """A widget-side object whose async slot fails, as a buggy action would."""

    poke = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.poke.connect(self.on_poke)
        self.reached = False

    @asyncSlot()
    async def on_poke(self) -> None:
        await asyncio.sleep(0)
        self.reached = True
        raise ValueError("the flux capacitor is empty")


@pytest.fixture
def handler(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> Iterator[ErrorHandler]:
    window = QWidget()
    qtbot.addWidget(window)
    handler = ErrorHandler(window)
    handler.install(qasync_loop)
    yield handler
    if handler.dialog is not None:
        handler.dialog.close()
    handler.uninstall()


def test_exception_in_async_slot_shows_dialog_with_traceback(
    handler: ErrorHandler, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    worker = Worker()
    button = QPushButton("Go")
    qtbot.addWidget(button)
    button.clicked.connect(worker.poke)

    with qtbot.waitSignal(handler.shown, timeout=5000) as shown:
        button.click()

    box = handler.dialog
    assert box is not None and box.isVisible()
    assert worker.reached
    assert "the flux capacitor is empty" in shown.args[0]
    assert "bug in FileMeta (ValueError)" in box.informativeText()
    details = box.detailedText()
    assert "Traceback" in details and "on_poke" in details
    assert box.icon() == QMessageBox.Icon.Critical
    assert any("flux capacitor" in r.getMessage() for r in caplog.records), "not logged"


def test_domain_error_from_a_task_shows_its_plain_message(
    handler: ErrorHandler, qtbot: QtBot
) -> None:
    tasks = TaskRegistry(on_error=report_exception)

    async def open_missing() -> None:
        raise NotFoundError("That folder is no longer in the library.")

    with qtbot.waitSignal(handler.shown, timeout=5000):
        tasks.start(open_missing())
    box = handler.dialog
    assert box is not None
    assert box.text() == "That folder is no longer in the library."
    assert box.icon() == QMessageBox.Icon.Warning
    assert "bug" not in box.informativeText()


def test_errors_arriving_while_a_dialog_is_open_follow_one_by_one(
    handler: ErrorHandler, qtbot: QtBot
) -> None:
    handler.handle(NotFoundError("First problem."))
    handler.handle(NotFoundError("Second problem."))
    handler.handle(NotFoundError("Second problem."))  # a repeat is not queued twice
    first = handler.dialog
    assert first is not None and first.text() == "First problem."
    with qtbot.waitSignal(handler.shown, timeout=5000) as shown:
        first.accept()
    assert shown.args[0] == "Second problem."
    assert handler.dialog is not None
    handler.dialog.accept()
    qtbot.waitUntil(lambda: handler.dialog is None)


def test_lost_connection_shows_banner_and_retries_until_it_answers(
    handler: ErrorHandler, qtbot: QtBot, tmp_path: Path, run_async: Any
) -> None:
    # A real database that cannot be reached yet: its folder does not exist.
    folder = tmp_path / "not-yet"
    database = Database(f"sqlite:///{folder / 'library.sqlite3'}")
    banner = ConnectionBanner()
    qtbot.addWidget(banner)
    banner.set_retry(database.ping)
    handler.set_banner(banner)
    try:
        handler.handle(ConnectionLostError("The server closed the connection."))
        assert banner.isVisible()
        assert handler.dialog is None, "a lost connection must not open a dialog"
        assert "Retrying in" in banner.countdown_label.text()

        with qtbot.waitSignal(banner.retry_failed, timeout=10_000):
            banner.retry_button.click()
        assert banner.isVisible()
        qtbot.waitUntil(lambda: not banner.retrying)

        folder.mkdir()
        with qtbot.waitSignal(banner.restored, timeout=10_000):
            banner.retry_button.click()
        assert not banner.isVisible()
    finally:
        banner.stop()
        run_async(database.dispose())
