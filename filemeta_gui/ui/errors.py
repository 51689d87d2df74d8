"""One place where every unhandled exception of the GUI ends up.

qasync's ``asyncSlot`` hands a failed slot's exception to ``sys.excepthook``; tasks started
elsewhere report through their done-callbacks or the event loop's exception handler. The
:class:`ErrorHandler` hooks all three, logs the error and shows it in a message box with
the traceback folded into "Show Details…". A lost database connection is not an error
dialog per action: it goes to a :class:`ConnectionBanner` that retries on its own.
"""

from __future__ import annotations

import asyncio
import html
import logging
import sys
import traceback
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from filemeta_gui.domain.errors import ConnectionLostError, FileMetaError
from filemeta_gui.ui.tasks import TaskRegistry

logger = logging.getLogger(__name__)

_MAX_PENDING = 20
_RETRY = "connection-retry"
_active: ErrorHandler | None = None


def report_exception(error: BaseException) -> None:
    """Hand ``error`` to the installed handler (or only log it when there is none)."""
    if _active is not None:
        _active.handle(error)
    else:
        logger.error("Unhandled error", exc_info=(type(error), error, error.__traceback__))


def active_handler() -> ErrorHandler | None:
    return _active


class ErrorHandler(QObject):
    """Logs and shows every exception that reaches it.

    Attributes:
        shown: emitted with the dialog text each time an error dialog opens.
        connection_lost: emitted with the message of a :class:`ConnectionLostError`.
    """

    shown = Signal(str)
    connection_lost = Signal(str)

    def __init__(self, parent_window: QWidget | None = None) -> None:
        super().__init__(parent_window)
        self._window = parent_window
        self._banner: ConnectionBanner | None = None
        self._box: QMessageBox | None = None
        self._pending: list[BaseException] = []
        self._previous_hook: Callable[..., Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- installation ---------------------------------------------------------

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Become the process-wide handler: ``sys.excepthook`` and the loop's handler."""
        global _active
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook
        self._loop = loop
        if loop is not None:
            loop.set_exception_handler(self._loop_exception)
        _active = self

    def uninstall(self) -> None:
        global _active
        if self._previous_hook is not None and sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_hook
        if self._loop is not None and not self._loop.is_closed():
            self._loop.set_exception_handler(None)
        if _active is self:
            _active = None

    def set_banner(self, banner: ConnectionBanner | None) -> None:
        """Route lost connections to ``banner`` instead of a dialog."""
        self._banner = banner

    @property
    def dialog(self) -> QMessageBox | None:
        """The error dialog on screen, if any."""
        return self._box

    # -- entry points ---------------------------------------------------------

    def _excepthook(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: not ours
            if self._previous_hook is not None:
                self._previous_hook(kind, error, tb)
            return
        if error.__traceback__ is None:
            error = error.with_traceback(tb)
        self.handle(error)

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, Exception):
            self.handle(error)
        else:
            logger.error("Event loop: %s", context.get("message", context))

    def watch(self, task: asyncio.Future[Any]) -> None:
        """Report the exception of ``task`` when it fails (cancellation is not a failure)."""
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            self.handle(error)

    def handle(self, error: BaseException) -> None:
        """Log ``error`` and show it: a banner for lost connections, else a dialog."""
        exc_info = (type(error), error, error.__traceback__)
        if isinstance(error, FileMetaError):
            logger.warning("%s", error, exc_info=exc_info)
        else:
            logger.error("Unhandled error: %s", error, exc_info=exc_info)
        if isinstance(error, ConnectionLostError):
            self.connection_lost.emit(str(error))
            if self._banner is not None:
                self._banner.show_lost(str(error))
                return
        if self._box is not None:
            text = describe_error(error)[0]
            queued = {describe_error(e)[0] for e in self._pending} | {self._box.text()}
            if len(self._pending) < _MAX_PENDING and text not in queued:
                self._pending.append(error)
            return
        self._show(error)

    # -- the dialog -----------------------------------------------------------

    def _show(self, error: BaseException) -> None:
        text, info = describe_error(error)
        box = QMessageBox(self._window)
        box.setObjectName("errorDialog")
        box.setWindowTitle("FileMeta")
        box.setIcon(
            QMessageBox.Icon.Warning
            if isinstance(error, FileMetaError)
            else QMessageBox.Icon.Critical
        )
        box.setText(text)
        box.setInformativeText(info)
        box.setDetailedText(format_traceback(error))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        # QMessageBox sizes itself to its text: keep short messages from a cramped box.
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 360px; }")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self._box = box
        # open(), not exec(): a nested event loop inside a qasync slot would re-enter the
        # asyncio loop; open() is window-modal and returns at once.
        box.open()
        self.shown.emit(text)

    def _closed(self) -> None:
        self._box = None
        if self._pending:
            self._show(self._pending.pop(0))


def describe_error(error: BaseException) -> tuple[str, str]:
    """The dialog's main text and its informative line, in plain words."""
    if isinstance(error, FileMetaError):
        return str(error), ""
    message = str(error) or type(error).__name__
    return (
        f"Something went wrong: {message}",
        f"This is a bug in FileMeta ({type(error).__name__}). The details below help to report it.",
    )


def format_traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


class ConnectionBanner(QFrame):
    """A strip across the top of the main window: "connection lost", with retries.

    Give it a ``retry`` coroutine function (e.g. the database ping); it calls it after
    2, 4, 8 … 30 seconds, or at once when the user presses "Retry now", and hides itself
    when the call succeeds.

    Attributes:
        restored: the retry succeeded, the banner is hidden.
        retry_failed: a retry failed; carries its message.
    """

    restored = Signal()
    retry_failed = Signal(str)

    FIRST_DELAY_MS = 2_000
    MAX_DELAY_MS = 30_000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionBanner")
        self.setStyleSheet(
            "#connectionBanner { background: #fff4ce; border-bottom: 1px solid #e0c36b; }"
            "#connectionBanner QLabel { color: #5c4400; }"
        )
        self._retry: Callable[[], Awaitable[object]] | None = None
        self._tasks = TaskRegistry(on_error=report_exception)
        self._delay_ms = self.FIRST_DELAY_MS
        self._seconds_left = 0
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.RichText)
        self.countdown_label = QLabel()
        self.retry_button = QPushButton("Retry now")
        self.retry_button.clicked.connect(self.retry_now)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(QLabel("⚠"))
        layout.addWidget(self.message_label, 1)
        layout.addWidget(self.countdown_label)
        layout.addWidget(self.retry_button)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self.hide()

    def set_retry(self, retry: Callable[[], Awaitable[object]] | None) -> None:
        self._retry = retry

    @property
    def retrying(self) -> bool:
        return self._tasks.running(_RETRY)

    def show_lost(self, message: str) -> None:
        """Show the banner (again) and schedule the next retry."""
        self._set_message(message)
        if self.isHidden():
            self._delay_ms = self.FIRST_DELAY_MS
            self.show()
        if not self._tasks.running(_RETRY):
            self._schedule()

    def _set_message(self, message: str) -> None:
        self.message_label.setText(f"<b>Offline.</b> {html.escape(message)}")

    def _schedule(self) -> None:
        if self._retry is None:
            self.countdown_label.setText("")
            return
        self._seconds_left = max(self._delay_ms // 1000, 1)
        self.countdown_label.setText(f"Retrying in {self._seconds_left} s")
        self._tick.start()

    def _on_tick(self) -> None:
        self._seconds_left -= 1
        if self._seconds_left > 0:
            self.countdown_label.setText(f"Retrying in {self._seconds_left} s")
        else:
            self.retry_now()

    def retry_now(self) -> None:
        self._tick.stop()
        if self._retry is None or self._tasks.running(_RETRY):
            return
        self.countdown_label.setText("Reconnecting…")
        self.retry_button.setEnabled(False)
        self._tasks.start(self._attempt(self._retry), key=_RETRY)

    async def _attempt(self, retry: Callable[[], Awaitable[object]]) -> None:
        try:
            await retry()
        except Exception as error:  # any failure means "still down": try again later
            logger.info("Reconnect failed: %s", error)
            self.retry_button.setEnabled(True)
            self._delay_ms = min(self._delay_ms * 2, self.MAX_DELAY_MS)
            self._set_message(str(error))
            self.retry_failed.emit(str(error))
            self._schedule()
            return
        self.retry_button.setEnabled(True)
        self._delay_ms = self.FIRST_DELAY_MS
        self.countdown_label.setText("")
        self.hide()
        self.restored.emit()

    def stop(self) -> None:
        """Stop retrying (the window is closing)."""
        self._tick.stop()
        self._tasks.cancel(_RETRY)
