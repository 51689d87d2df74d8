"""Permissions of the selected file(s): who holds which level; grant, change, revoke.

For many files at once: each guest's row says what they hold across the selection
("read on 2 of 3 files", "write 1, read 2"); granting gives the chosen level on *every*
selected file (raising or lowering what was held), revoking takes every level away on
every selected file. Admins are not listed: they may already do everything.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.enums import AccessType, Role
from filemeta_gui.domain.records import FileRecord, PermissionRecord, UserRecord
from filemeta_gui.ui.dialogs.admin_common import (
    AdminDialog,
    PermissionSource,
    UserSource,
    file_summary,
    fill,
    selected_keys,
    table,
    user_name,
)

HEADERS = ("User", "Access", "Files")


def held_text(levels: Counter[AccessType], total: int) -> tuple[str, str]:
    """("read", "2 of 3 files") or ("write 1, read 2", "3 of 3 files") for one user."""
    ranked = sorted(levels, key=lambda level: -level.rank)
    if len(ranked) == 1:
        access = ranked[0].value
    else:
        access = ", ".join(f"{level.value} {levels[level]}" for level in ranked)
    count = sum(levels.values())
    return access, f"{count} of {total} file{'s' if total != 1 else ''}"


class PermissionsDialog(AdminDialog):
    """File ▸ Permissions…  ``PermissionsDialog(services.permissions, services.users,
    selected_file_records, window).open()``."""

    def __init__(
        self,
        permissions: PermissionSource,
        users: UserSource,
        files: Sequence[FileRecord],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Permissions", parent)
        self.setObjectName("permissionsDialog")
        self.resize(600, 380)
        self.permissions = permissions
        self.users = users
        self.files = list(files)
        self.held: list[PermissionRecord] = []
        self.guests: list[UserRecord] = []
        self.view = table(HEADERS, self)
        self.view.itemSelectionChanged.connect(self._selection_changed)
        self.user_combo = QComboBox(self)
        self.user_combo.setObjectName("grantUser")
        self.level_combo = QComboBox(self)
        self.level_combo.setObjectName("grantLevel")
        for level in AccessType:
            self.level_combo.addItem(level.value.capitalize(), level)
        self.grant_button = QPushButton("Grant", self)
        self.grant_button.setToolTip("Give this level on every selected file")
        self.grant_button.clicked.connect(self.grant)
        self.revoke_button = QPushButton("Revoke", self)
        self.revoke_button.setToolTip("Take the selected users' access to these files away")
        self.revoke_button.clicked.connect(self.revoke)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        grant_row = QHBoxLayout()
        grant_row.addWidget(QLabel("Give", self))
        grant_row.addWidget(self.user_combo, 1)
        grant_row.addWidget(self.level_combo)
        grant_row.addWidget(self.grant_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.revoke_button)
        bottom.addStretch(1)
        bottom.addWidget(close)
        for button in (self.grant_button, self.revoke_button):
            button.setAutoDefault(False)
        self.header = QLabel(self)
        self.header.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        layout.addLayout(grant_row)
        layout.addWidget(self.problem)
        layout.addLayout(bottom)
        count = len(self.files)
        self.header.setText(
            f"{count} file{'s' if count != 1 else ''}: {file_summary(self.files)}. "
            "Admins may use every file; guests what is listed here."
        )
        self._selection_changed()
        self.refresh()

    @property
    def file_ids(self) -> list[uuid.UUID]:
        return [f.id for f in self.files]

    def refresh(self) -> None:
        self.start(self._load, then=self._show, key="load")

    async def _load(self) -> tuple[list[PermissionRecord], list[UserRecord]]:
        held = await self.permissions.for_files(self.file_ids)
        users = await self.users.list()
        return held, users

    def _show(self, loaded: tuple[list[PermissionRecord], list[UserRecord]]) -> None:
        self.held, users = loaded
        self.guests = [u for u in users if u.role is Role.GUEST]
        chosen = self.user_combo.currentData()
        self.user_combo.clear()
        for guest in self.guests:
            self.user_combo.addItem(user_name(guest), guest.id)
        if chosen is not None:
            self.user_combo.setCurrentIndex(max(self.user_combo.findData(chosen), 0))
        by_user: dict[uuid.UUID, Counter[AccessType]] = {}
        for permission in self.held:
            by_user.setdefault(permission.user_id, Counter())[permission.access_type] += 1
        names = {u.id: user_name(u) for u in users}
        order = sorted(by_user, key=lambda uid: names.get(uid, ""))
        rows = [(names.get(uid, "?"), *held_text(by_user[uid], len(self.files))) for uid in order]
        fill(self.view, rows, order)
        self.grant_button.setEnabled(bool(self.guests))
        self._selection_changed()

    def rows(self) -> list[tuple[str, str, str]]:
        """The table as text, for people reading it aloud and for tests."""
        return [
            tuple(self.view.item(r, c).text() for c in range(3))  # type: ignore[misc, union-attr]
            for r in range(self.view.rowCount())
        ]

    def choose(self, login: str, level: AccessType) -> None:
        self.user_combo.setCurrentIndex(self.user_combo.findText(login))
        self.level_combo.setCurrentIndex(self.level_combo.findData(level))

    def _selection_changed(self) -> None:
        keys = selected_keys(self.view)
        self.revoke_button.setEnabled(bool(keys))
        if len(keys) == 1:  # picking a row prepares changing that user's level
            self.user_combo.setCurrentIndex(max(self.user_combo.findData(keys[0]), 0))

    def grant(self) -> None:
        user_id = self.user_combo.currentData()
        if user_id is None:
            return
        level = AccessType(self.level_combo.currentData())
        self.start(self.permissions.grant, user_id, level, self.file_ids, then=self._changed)

    def revoke(self) -> None:
        for user_id in selected_keys(self.view):
            self.start(self.permissions.revoke, user_id, self.file_ids, then=self._changed)

    def _changed(self, _result: object = None) -> None:
        self.changed.emit()
        self.refresh()
