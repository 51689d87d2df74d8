"""The desktop app's composition root: ``filemeta-gui`` and ``python -m filemeta_gui``.

It creates the QApplication and the qasync event loop, opens the last-used library (the
default local SQLite file on the first run, created and migrated), shows the window and,
on quit, cancels running work and disposes the database *before* the loop stops —
disposing afterwards raises "Event loop stopped before Future completed".
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

os.environ.setdefault("QT_API", "pyside6")  # qasync must pick PySide6, never another binding

import qasync
from PySide6.QtCore import QMessageLogContext, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from filemeta_gui import config
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.startup import freeze_startup_objects
from filemeta_gui.ui import settings
from filemeta_gui.ui.resources import icon, stylesheet

if TYPE_CHECKING:
    from filemeta_gui.services.container import Services
    from filemeta_gui.ui.main_window import MainWindow

log = logging.getLogger("filemeta_gui")


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest (left for Qt: ``-platform``, ``-style`` …)."""
    parser = argparse.ArgumentParser(prog="filemeta-gui", description="FileMeta desktop app")
    parser.add_argument(
        "--db", metavar="URL", help="library to open: sqlite:///path or postgresql://user@host/db"
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        metavar="N",
        help="serve Prometheus metrics on http://127.0.0.1:N/metrics",
    )
    parser.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)
    return parser.parse_known_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    assert isinstance(app, QApplication)
    prepare_application(app)
    return int(qasync.run(run(app, args)))


def prepare_application(app: QApplication) -> None:
    qInstallMessageHandler(_qt_message)
    settings.configure()
    app.setApplicationDisplayName("FileMeta")
    app.setWindowIcon(icon("app"))
    app.setStyle("Fusion")  # the same look on every desktop; the stylesheet refines it
    app.setStyleSheet(stylesheet())
    # The loop must outlive the window: we close the database after the window is gone.
    app.setQuitOnLastWindowClosed(False)


async def run(app: QApplication, args: argparse.Namespace) -> int:
    from filemeta_gui.ui.main_window import MainWindow

    window = MainWindow()
    window.errors.install(asyncio.get_running_loop())
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    _close_on_signals(window)
    window.show()
    services = await open_library(window, args.db)
    freeze_startup_objects()
    metrics = start_metrics(services, args.metrics_port)
    if args.quit_after is not None:
        QTimer.singleShot(args.quit_after, window.close)
    try:
        await closed.wait()
    finally:
        if metrics is not None:
            metrics.close()
        await window.shutdown()
        window.errors.uninstall()
        window.deleteLater()
    return 0


async def open_library(window: MainWindow, url: str | None) -> Services | None:
    """Open ``url`` or the last-used library and show it; explain a failure."""
    from filemeta_gui.services.container import Services

    window.statusBar().showMessage("Opening the library…")
    try:
        target = url or await last_used_url()
        services = await Services.open_for_app(target)
    except FileMetaError as error:
        window.statusBar().clearMessage()
        window.report_error(error)
        window.menus.show_connect()
        return None
    window.statusBar().clearMessage()
    remember(target)
    await window.attach(services)
    return services


async def last_used_url() -> str:
    """``FILEMETA_DATABASE_URL``, else the last library opened, else the local default."""
    if os.environ.get(config.ENV_DATABASE_URL):
        return config.default_database_url()
    from filemeta_gui.ui.connection_settings import PasswordStore, RecentConnections

    last = RecentConnections().last()
    if last is None:
        config.data_dir().mkdir(parents=True, exist_ok=True)
        return config.default_database_url()
    password = None
    if last.kind == "postgresql":
        store = PasswordStore()
        # A keyring may talk D-Bus or a Keychain: keep it off the GUI thread.
        password = await asyncio.get_running_loop().run_in_executor(None, store.get, last.key)
    return last.url(password)


def remember(url: str) -> None:
    """Put ``url`` first among the recent connections (its password is never stored)."""
    from filemeta_gui.ui.connection_settings import ConnectionSettings, RecentConnections

    try:
        RecentConnections().remember(ConnectionSettings.from_url(url))
    except ValueError as error:
        log.warning("Not remembering %s: %s", url, error)


def start_metrics(services: Services | None, port: int | None) -> Any:
    """``--metrics-port``: the Prometheus endpoint over this library's query monitor."""
    if services is None or port is None:
        return None
    from filemeta_gui.services.metrics import start_metrics_server

    try:
        server = start_metrics_server(services.database.monitor, port)
    except OSError as error:
        log.warning("Metrics endpoint on port %s not started: %s", port, error)
        return None
    log.info("Metrics at %s", server.url)
    return server


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
# Said by platform plugins that cannot do something harmless (offscreen, some Wayland).
_QT_CHATTER = ("This plugin does not support",)


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's own messages go to logging like ours (so tests and logs see them)."""
    level = _QT_LEVELS.get(kind, logging.WARNING)
    if any(text in message for text in _QT_CHATTER):
        level = logging.DEBUG
    logging.getLogger("qt").log(level, "%s", message)


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl+C in the terminal closes the window like Ctrl+Q (a clean shutdown)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, window.close)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, non-main thread
            return
