"""The two pages of the Connect dialog: a local SQLite file, or a PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from filemeta_gui.ui.connection_settings import DEFAULT_PORT, SSL_MODES, ConnectionSettings

SQLITE_FILTER = "FileMeta libraries (*.sqlite3 *.sqlite *.db);;All files (*)"
_SSL_LABELS = {
    "prefer": "Prefer (encrypt if the server can)",
    "disable": "Disable",
    "require": "Require",
    "verify-ca": "Require, verify the certificate",
    "verify-full": "Require, verify certificate and host name",
}


class SqlitePage(QWidget):
    """Choose an existing library file or name a new one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/path/to/library.sqlite3")
        self.open_file_button = QPushButton("Open…")
        self.open_file_button.clicked.connect(self._choose_existing)
        self.new_file_button = QPushButton("New…")
        self.new_file_button.clicked.connect(self._choose_new)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.open_file_button)
        row.addWidget(self.new_file_button)
        hint = QLabel(
            "A library on this computer, no set-up needed. A new file is created and "
            "prepared when you connect. Keep it on a local disk, not a network share."
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)
        layout = QFormLayout(self)
        layout.addRow("File:", row)
        layout.addRow(hint)

    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(kind="sqlite", path=self.path_edit.text().strip())

    def set_settings(self, settings: ConnectionSettings) -> None:
        self.path_edit.setText(settings.path)

    def _choose_existing(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a library", self._start_folder(), SQLITE_FILTER
        )
        if path:
            self.path_edit.setText(path)

    def _choose_new(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Create a library", self._start_folder(), SQLITE_FILTER
        )
        if path:
            self.path_edit.setText(path if Path(path).suffix else path + ".sqlite3")

    def _start_folder(self) -> str:
        current = self.path_edit.text().strip()
        return str(Path(current).parent) if current else str(Path.home())


class PostgresPage(QWidget):
    """Host, port, database, user, password, SSL mode.

    Args:
        keyring_available: whether "remember the password" can be offered.
    """

    def __init__(self, keyring_available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keyring_available = keyring_available
        self.host_edit = QLineEdit("localhost")
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_PORT)
        self.database_edit = QLineEdit("filemeta")
        self.user_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember_check = QCheckBox("Remember the password in the system keyring")
        if not keyring_available:
            self.remember_check.setEnabled(False)
            self.remember_check.setText("No system keyring: the password is asked each time")
        self.ssl_combo = QComboBox()
        for mode in SSL_MODES:
            self.ssl_combo.addItem(_SSL_LABELS[mode], mode)
        host_row = QHBoxLayout()
        host_row.addWidget(self.host_edit, 1)
        host_row.addWidget(QLabel("Port:"))
        host_row.addWidget(self.port_spin)
        layout = QFormLayout(self)
        layout.addRow("Host:", host_row)
        layout.addRow("Database:", self.database_edit)
        layout.addRow("User:", self.user_edit)
        layout.addRow("Password:", self.password_edit)
        layout.addRow("", self.remember_check)
        layout.addRow("Encryption (SSL):", self.ssl_combo)

    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            kind="postgresql",
            host=self.host_edit.text().strip(),
            port=self.port_spin.value(),
            database=self.database_edit.text().strip(),
            user=self.user_edit.text().strip(),
            ssl_mode=str(self.ssl_combo.currentData()),
        )

    def set_settings(self, settings: ConnectionSettings) -> None:
        self.host_edit.setText(settings.host)
        self.port_spin.setValue(settings.port)
        self.database_edit.setText(settings.database)
        self.user_edit.setText(settings.user)
        self.password_edit.clear()
        self.ssl_combo.setCurrentIndex(max(self.ssl_combo.findData(settings.ssl_mode), 0))
        # A saved password is fetched when connecting; without a keyring it must be typed.
        self.password_edit.setPlaceholderText(
            "leave empty to use the saved one" if self.keyring_available else ""
        )
        self.password_edit.setFocus()

    @property
    def password(self) -> str:
        return self.password_edit.text()

    @property
    def remember_password(self) -> bool:
        return self.remember_check.isEnabled() and self.remember_check.isChecked()
