"""Admin ▸ Access of a user…: every file a user can reach, with their level.

An admin reaches everything (said in one line rather than listed: it is the library).
Selected files can be revoked from here too, which is what an admin looking at someone's
access usually wants next.
"""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.access import UserAccess
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.ui.dialogs.admin_common import (
    AdminDialog,
    PermissionSource,
    UserSource,
    fill,
    selected_keys,
    table,
    user_name,
)

HEADERS = ("Access", "File")
# Enough for any real grant list; a guest holding more is shown with a note.
LIMIT = 10_000


class UserAccessDialog(AdminDialog):
    """``UserAccessDialog(services.permissions, services.users, window, login=None).open()``."""

    def __init__(
        self,
        permissions: PermissionSource,
        users: UserSource,
        parent: QWidget | None = None,
        *,
        login: str | None = None,
    ) -> None:
        super().__init__("Access of a user", parent)
        self.setObjectName("userAccessDialog")
        self.resize(640, 420)
        self.permissions = permissions
        self.users = users
        self.access: UserAccess | None = None
        self._wanted = login
        self.user_combo = QComboBox(self)
        self.user_combo.setObjectName("accessUser")
        self.user_combo.currentIndexChanged.connect(lambda _i: self.show_user())
        self.summary = QLabel(self)
        self.summary.setObjectName("accessSummary")
        self.summary.setWordWrap(True)
        self.revoke_button = QPushButton("Revoke selected", self)
        self.revoke_button.setAutoDefault(False)
        self.revoke_button.clicked.connect(self.revoke_selected)
        self.view = table(HEADERS, self)
        self.view.itemSelectionChanged.connect(
            lambda: self.revoke_button.setEnabled(bool(selected_keys(self.view)))
        )
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(QLabel("User:", self))
        top.addWidget(self.user_combo, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.revoke_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.problem)
        layout.addLayout(bottom)
        self.revoke_button.setEnabled(False)
        self.start(self.users.list, then=self._show_users, key="users")

    def _show_users(self, users: list[UserRecord]) -> None:
        self.user_combo.blockSignals(True)
        self.user_combo.clear()
        for user in users:
            self.user_combo.addItem(f"{user_name(user)} ({user.role.value})", user.id)
        self.user_combo.blockSignals(False)
        wanted = next((i for i, u in enumerate(users) if u.login == self._wanted), 0)
        self.user_combo.setCurrentIndex(wanted)
        self.show_user()

    def choose(self, login: str | None) -> None:
        """Show ``login``'s access (None: this computer's user)."""
        for index in range(self.user_combo.count()):
            if self.user_combo.itemText(index).startswith(f"{login or 'this computer'} ("):
                self.user_combo.setCurrentIndex(index)

    def show_user(self) -> None:
        user_id = self.user_combo.currentData()
        if isinstance(user_id, uuid.UUID):
            self.start(self.permissions.access_of_user, user_id, LIMIT, then=self._show, key="load")

    def _show(self, access: UserAccess) -> None:
        self.access = access
        name = user_name(access.user)
        if access.everything:
            self.summary.setText(f"{name} is an admin: every file, every level.")
        elif not access.files:
            self.summary.setText(f"{name} may not use any file yet.")
        else:
            more = " (the first ones)" if len(access.files) >= LIMIT else ""
            self.summary.setText(f"{name} may use {len(access.files)} files{more}.")
        if access.user.disabled:
            self.summary.setText(self.summary.text() + " Disabled: sees nothing for now.")
        rows = [(item.level.value, item.file.file_path) for item in access.files]
        fill(self.view, rows, [item.file.id for item in access.files])

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.view.item(r, 0).text(), self.view.item(r, 1).text())  # type: ignore[union-attr]
            for r in range(self.view.rowCount())
        ]

    def revoke_selected(self) -> None:
        file_ids = selected_keys(self.view)
        if self.access is None or not file_ids:
            return
        self.start(self.permissions.revoke, self.access.user.id, file_ids, then=self._revoked)

    def _revoked(self, _count: int) -> None:
        self.changed.emit()
        self.show_user()
