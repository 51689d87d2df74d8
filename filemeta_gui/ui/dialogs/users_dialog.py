"""Admin ▸ Users…: who may use the library, from where, as what.

List, add (login, address or network, role, optional password), make admin or guest,
change the address, disable or enable, remove. The rules (the last admin stays, a login
is unique, an address is one) are the service's: a refusal appears on the problem line in
its own words and the list is left as the database holds it.
"""

from __future__ import annotations

import ipaddress
import uuid

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filemeta_gui.domain.enums import Role
from filemeta_gui.domain.records import UserRecord
from filemeta_gui.ui.dialogs.admin_common import (
    AdminDialog,
    UserSource,
    fill,
    selected_keys,
    table,
    user_name,
)

HEADERS = ("Login", "Role", "May connect from", "Status", "Added")


def address_problem(text: str) -> str:
    """Why ``text`` is not an address or network ("" when it is one)."""
    text = text.strip()
    if not text:
        return "Enter the address or network they connect from (e.g. 10.0.0.7 or 10.0.0.0/24)."
    try:
        if "/" in text:
            ipaddress.ip_network(text, strict=True)
        else:
            ipaddress.ip_address(text)
    except ValueError as error:
        return f"Not an address or network: {error}."
    return ""


class UserForm(AdminDialog):
    """Add a user, or change an address (``address_only``)."""

    def __init__(
        self, parent: QWidget | None = None, *, address_only: bool = False, address: str = ""
    ) -> None:
        super().__init__("Change address" if address_only else "Add a user", parent)
        self.login_edit = QLineEdit(self)
        self.login_edit.setPlaceholderText("their database login, e.g. alice")
        self.address_edit = QLineEdit(address, self)
        self.address_edit.setPlaceholderText("10.0.0.7 or 10.0.0.0/24")
        self.role_combo = QComboBox(self)
        for role in Role:
            self.role_combo.addItem(role.value.capitalize(), role)
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("optional: team servers only")
        form = QFormLayout()
        if not address_only:
            form.addRow("Login:", self.login_edit)
        form.addRow("May connect from:", self.address_edit)
        if not address_only:
            form.addRow("Role:", self.role_combo)
            form.addRow("Password:", self.password_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._address_only = address_only
        self.login_edit.textChanged.connect(self._check)
        self.address_edit.textChanged.connect(self._check)
        self._check()

    @property
    def ok_button(self) -> QPushButton:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert button is not None
        return button

    @property
    def role(self) -> Role:
        return Role(self.role_combo.currentData())

    @property
    def password(self) -> str | None:
        return self.password_edit.text() or None

    def _check(self) -> None:
        problem = address_problem(self.address_edit.text())
        if not self._address_only and not self.login_edit.text().strip():
            problem = "Enter their login."
        typed = bool(self.address_edit.text() or self.login_edit.text())
        self.problem.setText(problem if typed else "")
        self.problem.setVisible(bool(problem) and typed)
        self.ok_button.setEnabled(not problem)


class UsersDialog(AdminDialog):
    """Admin ▸ Users…  Open with ``UsersDialog(services.users, window).open()``."""

    def __init__(self, users: UserSource, parent: QWidget | None = None) -> None:
        super().__init__("Users", parent)
        self.setObjectName("usersDialog")
        self.resize(720, 420)
        self.users = users
        self.records: list[UserRecord] = []
        self.form: UserForm | None = None
        self.confirm_box: QMessageBox | None = None
        self.view = table(HEADERS, self)
        self.view.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Add…", self)
        self.add_button.clicked.connect(self.ask_to_add)
        self.role_button = QPushButton("Make admin", self)
        self.role_button.clicked.connect(self.toggle_role)
        self.address_button = QPushButton("Change address…", self)
        self.address_button.clicked.connect(self.ask_for_address)
        self.disable_button = QPushButton("Disable", self)
        self.disable_button.clicked.connect(self.toggle_disabled)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.clicked.connect(self.ask_to_remove)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.role_button,
            self.address_button,
            self.disable_button,
            self.remove_button,
        ):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("People who may use this library, and from where.", self))
        layout.addWidget(self.view, 1)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    # -- reading --------------------------------------------------------------

    def refresh(self) -> None:
        self.start(self.users.list, then=self._show, key="load")

    def _show(self, records: list[UserRecord]) -> None:
        chosen = set(selected_keys(self.view))
        self.records = records
        rows = [
            (
                user_name(u),
                u.role.value,
                u.ip_address,
                "disabled" if u.disabled else "enabled",
                u.created_at.astimezone().strftime("%Y-%m-%d"),
            )
            for u in records
        ]
        fill(self.view, rows, [u.id for u in records])
        for row, user in enumerate(records):
            if user.id in chosen:
                self.view.selectRow(row)
        self._update_buttons()

    def selected(self) -> UserRecord | None:
        keys = selected_keys(self.view)
        return next((u for u in self.records if keys and u.id == keys[0]), None)

    def select(self, login: str | None) -> None:
        """Select the row of ``login`` (None: this computer's user)."""
        for row, user in enumerate(self.records):
            if user.login == login:
                self.view.selectRow(row)

    def _update_buttons(self) -> None:
        user = self.selected()
        for button in (
            self.role_button,
            self.address_button,
            self.disable_button,
            self.remove_button,
        ):
            button.setEnabled(user is not None)
        if user is not None:
            self.role_button.setText("Make guest" if user.role is Role.ADMIN else "Make admin")
            self.disable_button.setText("Enable" if user.disabled else "Disable")

    # -- changing -------------------------------------------------------------

    def _changed(self, _result: object = None) -> None:
        self.changed.emit()
        self.refresh()

    def ask_to_add(self) -> None:
        self.form = UserForm(self)
        self.form.accepted.connect(self._add_from_form)
        self.form.open()  # window-modal, returns at once: no nested loop inside qasync

    def _add_from_form(self) -> None:
        form = self.form
        assert form is not None
        self.add(form.login_edit.text(), form.address_edit.text(), form.role, form.password)

    def add(self, login: str, address: str, role: Role, password: str | None = None) -> None:
        self.start(self.users.add, login, address, role, password, then=self._changed)

    def toggle_role(self) -> None:
        user = self.selected()
        if user is not None:
            role = Role.GUEST if user.role is Role.ADMIN else Role.ADMIN
            self.start(self.users.set_role, user.id, role, then=self._changed)

    def ask_for_address(self) -> None:
        user = self.selected()
        if user is None:
            return
        self.form = UserForm(self, address_only=True, address=user.ip_address)
        self.form.accepted.connect(lambda: self._set_address(user.id))
        self.form.open()

    def _set_address(self, user_id: uuid.UUID) -> None:
        assert self.form is not None
        self.start(
            self.users.set_address, user_id, self.form.address_edit.text(), then=self._changed
        )

    def toggle_disabled(self) -> None:
        user = self.selected()
        if user is not None:
            change = self.users.enable if user.disabled else self.users.disable
            self.start(change, user.id, then=self._changed)

    def ask_to_remove(self) -> None:
        user = self.selected()
        if user is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove user",
            f"Remove {user_name(user)} and every permission they hold? On a team server "
            "their login role goes too, if FileMeta created it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.finished.connect(lambda _result: self._remove_if_confirmed(box, user.id))
        self.confirm_box = box
        box.open()

    def _remove_if_confirmed(self, box: QMessageBox, user_id: uuid.UUID) -> None:
        # QMessageBox finishes with the button's value, not QDialog.Accepted: ask which.
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            self.start(self.users.remove, user_id, then=self._changed)
        self.confirm_box = None
