"""File > Connect…: pick a local SQLite library or a PostgreSQL server, test it, connect.

Testing and connecting run as tasks on the qasync loop; the dialog stays responsive and
can be cancelled while a server takes its time to answer. Failures come from the domain
errors raised by ``Database.open`` and the migration, shown in plain words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.errors import (
    ConfigurationError,
    DatabaseUnavailableError,
    FileMetaError,
    NotAFileMetaDatabaseError,
    SchemaTooNewError,
)
from filemeta_gui.ui.connection_settings import (
    ConnectionSettings,
    PasswordStore,
    RecentConnections,
)
from filemeta_gui.ui.dialogs.connect_forms import PostgresPage, SqlitePage
from filemeta_gui.ui.errors import report_exception
from filemeta_gui.ui.tasks import TaskRegistry

_WORK = "connect-dialog"
Opener = Callable[[str], Awaitable[Any]]
Checker = Callable[[str], Awaitable[Any]]


def headline(error: BaseException) -> str:
    """What kind of failure, as the bold first line of the status area."""
    if isinstance(error, SchemaTooNewError):
        return "This library needs a newer FileMeta"
    if isinstance(error, NotAFileMetaDatabaseError):
        return "Not a FileMeta database"
    if isinstance(error, ConfigurationError):
        return "The settings are not complete"
    if isinstance(error, DatabaseUnavailableError):
        return "Could not connect"
    return "Connection failed"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


async def _open_services(url: str) -> Any:
    from filemeta_gui.services.container import Services

    return await Services.open_for_app(url)


async def _check(url: str) -> Any:
    from filemeta_gui.services.connection_check import check_connection

    return await check_connection(url)


class ConnectDialog(QDialog):
    """Choose a library and connect to it.

    After ``accepted``, :attr:`opened` holds what the opener returned (by default the
    ``Services`` of the new library) and :attr:`connection` the settings used.

    Args:
        opener: ``await opener(url)`` connects for real (default ``Services.open``).
        checker: ``await checker(url)`` for "Test connection"; returns an object with a
            ``message`` (default: the connection-check service; nothing is changed).
        recent, passwords: where recent connections and passwords are kept.
        initial: settings to show first (default: the most recent connection).
    """

    tested = Signal(bool, str)
    connected = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        opener: Opener | None = None,
        checker: Checker | None = None,
        recent: RecentConnections | None = None,
        passwords: PasswordStore | None = None,
        initial: ConnectionSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a library")
        self.setObjectName("connectDialog")
        self._opener = opener or _open_services
        self._checker = checker or _check
        self._recent = recent or RecentConnections()
        self._passwords = passwords or PasswordStore()
        self._tasks = TaskRegistry(on_error=report_exception)
        self.opened: Any = None
        self.connection: ConnectionSettings | None = None
        self._build()
        recent_items = self._recent.load()
        self._fill_recent(recent_items)
        start = initial or (recent_items[0] if recent_items else None)
        if start is not None:
            self.set_settings(start)
        self.resize(520, self.sizeHint().height())

    # -- layout ---------------------------------------------------------------

    def _build(self) -> None:
        self.recent_combo = QComboBox()
        self.recent_combo.setMinimumContentsLength(28)
        self.recent_combo.activated.connect(self._recent_chosen)
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Remove this entry from the recent connections")
        self.forget_button.clicked.connect(self._forget_recent)
        recent_row = QHBoxLayout()
        recent_row.addWidget(QLabel("Recent:"))
        recent_row.addWidget(self.recent_combo, 1)
        recent_row.addWidget(self.forget_button)

        self.tabs = QTabWidget()
        self.sqlite_page = SqlitePage()
        self.pg_page = PostgresPage(self._passwords.available)
        self.tabs.addTab(self.sqlite_page, "Local library file")
        self.tabs.addTab(self.pg_page, "PostgreSQL server")
        self.tabs.currentChanged.connect(lambda _index: self._set_status("", ""))

        self.status_label = QLabel()
        self.status_label.setObjectName("connectStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setMinimumHeight(48)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton(
            "Connect", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.connect_button.setDefault(True)
        self.test_button = QPushButton("Test connection")
        self.test_button.setAutoDefault(False)  # Enter connects; it never just tests
        self.test_button.setToolTip("Reach the database and read its version; nothing is changed")
        self.test_button.clicked.connect(self.test_connection)
        button_row = QHBoxLayout()
        button_row.addWidget(self.test_button)
        button_row.addStretch(1)
        button_row.addWidget(self.buttons)
        self.buttons.accepted.connect(self.connect_to_library)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(recent_row)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status_label)
        layout.addLayout(button_row)

    # -- settings <-> fields --------------------------------------------------

    def settings(self) -> ConnectionSettings:
        page = self.sqlite_page if self.tabs.currentIndex() == 0 else self.pg_page
        return page.settings()

    def set_settings(self, settings: ConnectionSettings) -> None:
        if settings.kind == "sqlite":
            self.tabs.setCurrentIndex(0)
            self.sqlite_page.set_settings(settings)
        else:
            self.tabs.setCurrentIndex(1)
            self.pg_page.set_settings(settings)

    def _fill_recent(self, items: list[ConnectionSettings]) -> None:
        self.recent_combo.clear()
        for item in items:
            self.recent_combo.addItem(item.label, item)
        self.recent_combo.setEnabled(bool(items))
        self.forget_button.setEnabled(bool(items))
        if not items:
            self.recent_combo.addItem("No recent connections")

    def _recent_chosen(self, index: int) -> None:
        item = self.recent_combo.itemData(index)
        if isinstance(item, ConnectionSettings):
            self.set_settings(item)
            self._set_status("", "")

    def _forget_recent(self) -> None:
        item = self.recent_combo.currentData()
        if isinstance(item, ConnectionSettings):
            self._recent.forget(item)
            self._passwords.delete(item.key)
            self._fill_recent(self._recent.load())

    # -- testing and connecting -----------------------------------------------

    @property
    def busy(self) -> bool:
        return self._tasks.running(_WORK)

    def status_text(self) -> str:
        """The status area as plain text (for tests and accessibility)."""
        return self.status_label.accessibleDescription()

    def test_connection(self) -> None:
        self._run(self._test(), "Testing the connection…")

    def connect_to_library(self) -> None:
        self._run(self._connect(), "Connecting…")

    def _run(self, work: Any, message: str) -> None:
        if self._tasks.running(_WORK):
            work.close()
            return
        self._set_busy(True)
        self._set_status("busy", message)
        self._tasks.start(work, key=_WORK)

    async def _url(self, settings: ConnectionSettings) -> str:
        missing = settings.missing()
        if missing:
            raise ConfigurationError(missing)
        password: str | None = self.pg_page.password if settings.kind == "postgresql" else None
        if settings.kind == "postgresql" and not password and self._passwords.available:
            # Keyring back ends may talk D-Bus or a Keychain: keep that off the GUI thread.
            password = await asyncio.to_thread(self._passwords.get, settings.key)
        return settings.url(password or None)

    async def _test(self) -> None:
        try:
            report = await self._checker(await self._url(self.settings()))
        except FileMetaError as error:
            self._failed(error)
            return
        finally:
            self._set_busy(False)
        message = str(getattr(report, "message", report))
        self._set_status("ok", message)
        self.tested.emit(True, message)

    async def _connect(self) -> None:
        settings = self.settings()
        try:
            opened = await self._opener(await self._url(settings))
        except FileMetaError as error:
            self._failed(error)
            return
        finally:
            self._set_busy(False)
        self.opened = opened
        self.connection = settings
        self._recent.remember(settings)
        password = self.pg_page.password
        if settings.kind == "postgresql" and password and self.pg_page.remember_password:
            await asyncio.to_thread(self._passwords.set, settings.key, password)
        self._set_status("ok", "Connected.")
        self.connected.emit(opened)
        self.accept()

    def _failed(self, error: FileMetaError) -> None:
        title = headline(error)
        message = _sentence(str(error))
        settings = self.settings()
        if (
            isinstance(error, DatabaseUnavailableError)
            and settings.kind == "postgresql"
            and settings.ssl_mode in ("require", "verify-ca", "verify-full")
        ):
            message += " Encryption is required: check that the server offers SSL" + (
                ", and that its CA certificate is in ~/.postgresql/root.crt."
                if settings.ssl_mode != "require"
                else "."
            )
        self._set_status("error", message, title)
        self.tested.emit(False, f"{title}: {message}")

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.test_button, self.connect_button, self.tabs, self.recent_combo):
            widget.setEnabled(not busy)
        if not busy:
            self.recent_combo.setEnabled(self.forget_button.isEnabled())

    def _set_status(self, kind: str, message: str, title: str = "") -> None:
        color = {"ok": "#1b7f3b", "error": "#b3261e", "busy": "palette(text)"}.get(kind, "")
        mark = {"ok": "✓ ", "error": "✗ ", "busy": "… "}.get(kind, "")
        plain = f"{title}: {message}" if title else message
        self.status_label.setAccessibleDescription(plain)
        body = _escape(message)
        if title:
            body = f"<b>{mark}{_escape(title)}</b><br>{body}"
        elif message:
            body = f"{mark}{body}"
        self.status_label.setText(f"<span style='color:{color}'>{body}</span>" if body else "")

    def reject(self) -> None:
        self._tasks.cancel(_WORK)
        super().reject()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
