"""What the three admin dialogs share: the services they use, a task runner, a problem line.

The dialogs talk to ``UserService`` and ``PermissionService`` through the protocols below
(so a test can hand them the real services and nothing else). Every call runs as a task
kept by a ``TaskRegistry`` (qasync's slots keep no reference). A refusal in plain words
(``FileMetaError``: the last admin, an address that is not one…) is shown on the
dialog's problem line, where the admin is looking; anything else is a bug and goes to the
application's error handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QLabel, QTableWidget, QTableWidgetItem, QWidget

from filemeta_gui.domain.access import UserAccess
from filemeta_gui.domain.enums import AccessType, Role
from filemeta_gui.domain.errors import FileMetaError
from filemeta_gui.domain.records import FileRecord, PermissionRecord, UserRecord
from filemeta_gui.ui.errors import report_exception
from filemeta_gui.ui.tasks import TaskRegistry

T = TypeVar("T")
UserRef = str | uuid.UUID


class UserSource(Protocol):
    """What the dialogs need from ``UserService``."""

    async def list(self) -> list[UserRecord]: ...
    async def add(
        self, login: str, address: str, role: Role = Role.GUEST, password: str | None = None
    ) -> UserRecord: ...
    async def set_role(self, user: UserRef, role: Role) -> UserRecord: ...
    async def set_address(self, user: UserRef, address: str) -> UserRecord: ...
    async def disable(self, user: UserRef) -> UserRecord: ...
    async def enable(self, user: UserRef) -> UserRecord: ...
    async def remove(self, user: UserRef) -> None: ...


class PermissionSource(Protocol):
    """What the dialogs need from ``PermissionService``."""

    async def grant(
        self, user: UserRef, level: AccessType, file_ids: Iterable[uuid.UUID]
    ) -> int: ...
    async def revoke(self, user: UserRef, file_ids: Iterable[uuid.UUID]) -> int: ...
    async def for_files(self, file_ids: Iterable[uuid.UUID]) -> list[PermissionRecord]: ...
    async def access_of_user(self, user: UserRef, limit: int | None = None) -> UserAccess: ...


def user_name(user: UserRecord) -> str:
    return user.login or "this computer"


def file_summary(files: Sequence[FileRecord], shown: int = 3) -> str:
    names = ", ".join(f.filename for f in files[:shown])
    more = f" and {len(files) - shown} more" if len(files) > shown else ""
    return f"{names}{more}"


class AdminDialog(QDialog):
    """Base of the admin dialogs: tasks, a busy flag, the problem line.

    Attributes:
        changed: something was granted, revoked or a user changed (the main window may
            refresh what depends on it, e.g. the per-file level column).
        failed: a refusal was shown; carries its text.
    """

    changed = Signal()
    failed = Signal(str)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.tasks = TaskRegistry(on_error=report_exception)
        self.problem = QLabel(self)
        self.problem.setObjectName("adminProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b3261e;")
        self.problem.hide()

    @property
    def busy(self) -> bool:
        return self.tasks.running()

    def start(
        self,
        call: Callable[..., Awaitable[T]],
        *args: Any,
        then: Callable[[T], Any] | None = None,
        key: str | None = None,
    ) -> None:
        """Run ``call(*args)`` as a task; on success clear the problem line, ``then(result)``.

        The coroutine is made inside the task: a task replaced (same ``key``) before it
        starts leaves no coroutine behind that was never awaited.
        """
        self.tasks.start(self._run(call, args, then), key=key)

    async def _run(
        self,
        call: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        then: Callable[[T], Any] | None,
    ) -> None:
        try:
            result = await call(*args)
        except FileMetaError as error:
            self.show_problem(str(error))
            return
        self.show_problem("")
        if then is not None:
            then(result)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        if text:
            self.failed.emit(text)

    def done(self, result: int) -> None:
        # A list still loading is of no use once the dialog is closed; changes already
        # sent are left to finish (cancelling one midway would only hide its outcome).
        self.tasks.cancel("load")
        super().done(result)


def table(headers: Sequence[str], parent: QWidget) -> QTableWidget:
    """A read-only, row-selecting table (users and permissions are tens, not millions)."""
    view = QTableWidget(0, len(headers), parent)
    view.setHorizontalHeaderLabels(list(headers))
    view.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    view.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    return view


def fill(view: QTableWidget, rows: Sequence[Sequence[str]], keys: Sequence[object]) -> None:
    """Replace the table's rows; ``keys[i]`` is kept on row i (``Qt.UserRole`` of column 0)."""
    view.setRowCount(len(rows))
    for r, (cells, key) in enumerate(zip(rows, keys, strict=True)):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c == 0:
                item.setData(Qt.ItemDataRole.UserRole, key)
            view.setItem(r, c, item)
    view.resizeColumnsToContents()


def selected_keys(view: QTableWidget) -> list[Any]:
    rows = sorted({index.row() for index in view.selectionModel().selectedRows()})
    items = [view.item(r, 0) for r in rows]
    return [item.data(Qt.ItemDataRole.UserRole) for item in items if item is not None]
