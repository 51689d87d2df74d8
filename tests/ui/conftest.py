"""Fixtures for driving the real window on a real library (no mocks, offscreen Qt).

The window runs on a qasync loop created with ``already_running=True``: pytest-qt's own
event processing (``qtbot.waitUntil``) drives the asyncio tasks, so tests stay ordinary
synchronous functions. Never call ``qtbot.waitUntil`` from an ``async def`` test.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import asyncio
import contextlib
import gc
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.ui.library import make_sample_tree

T = TypeVar("T")
TIMEOUT_MS = 20_000


@pytest.fixture
def qasync_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop on pytest-qt's QApplication, running while Qt processes events."""
    from qasync import QEventLoop

    from filemeta_gui.app import prepare_application

    prepare_application(qapp)
    loop = QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        # Not ``loop.stop()``: it calls ``QApplication.exit()``, which with no exec()
        # running leaves Qt's quit flag set, and every later ``QEventLoop.exec()``
        # (pytest-qt's waitSignal) would return at once. Mark the loop stopped instead.
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        _kill_loop_timers(loop)
        loop.close()
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        # Collect the loop's QObjects here, on the GUI thread: collected later by a worker
        # thread, their C++ destructors could not unregister their timers, and Qt would
        # fire one at freed memory (a segfault several tests later).
        gc.collect()


def _kill_loop_timers(loop: asyncio.AbstractEventLoop) -> None:
    """qasync's ``close()`` only flags its timer object; stop its pending Qt timers too."""
    timer = loop._timer  # type: ignore[attr-defined]
    callbacks = timer._SimpleTimer__callbacks
    for timer_id in list(callbacks):
        timer.killTimer(timer_id)
    callbacks.clear()


@pytest.fixture
def qloop(qasync_loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
    """Short name for :func:`qasync_loop`."""
    return qasync_loop


def run(
    qtbot: QtBot,
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, T],
    timeout: int = TIMEOUT_MS,
) -> T:
    """Run ``coro`` on the qasync loop and wait (processing Qt events) for its result."""
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


@pytest.fixture
def run_async(qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop) -> Any:
    """``run_async(coro, timeout=ms)``: :func:`run` bound to this test's loop."""

    def _run(coro: Coroutine[Any, Any, T], timeout: int = TIMEOUT_MS) -> T:
        return run(qtbot, qasync_loop, coro, timeout)

    return _run


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    return make_sample_tree(tmp_path / "photos")


@pytest.fixture
def window(db_url: str, qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """The main window attached to a fresh migrated library (SQLite and PostgreSQL).

    ``db_url`` comes first: its session fixtures use ``asyncio.run``, which must happen
    before the qasync loop is marked running.
    """
    with attached_window(db_url, qtbot, qloop) as main:
        yield main


@contextlib.contextmanager
def attached_window(url: str, qtbot: QtBot, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """A shown main window on the library at ``url``; it must show no error dialog."""
    from filemeta_gui.services.container import Services
    from filemeta_gui.ui.main_window import MainWindow

    shown_errors: list[str] = []
    main = MainWindow()
    main.errors.shown.connect(shown_errors.append)
    services = run(qtbot, loop, Services.open(url))
    run(qtbot, loop, main.attach(services))
    main.show()
    qtbot.waitExposed(main)
    wait_idle(qtbot, main)
    try:
        yield main
    finally:
        run(qtbot, loop, main.shutdown())
        main.close()
        main.deleteLater()
        QApplication.processEvents()
    assert not shown_errors, f"the window showed error dialogs: {shown_errors}"


def wait_idle(qtbot: QtBot, window: Any, timeout: int = TIMEOUT_MS) -> None:
    """Wait until no task of the window runs and no search waits for its debounce."""
    qtbot.waitUntil(lambda: window.tasks.idle and not window.search.pending, timeout=timeout)


def wait_scanned(qtbot: QtBot, window: Any, folder: Path, timeout: int = 60_000) -> None:
    """Add ``folder`` as a user would (drop it on the window) and wait for the scan."""
    with qtbot.waitSignal(window.scan.scan_finished, timeout=timeout):
        window.scan.add_folder(str(folder))
    wait_idle(qtbot, window, timeout)
