"""File > Connect…: test and connect to real SQLite files and the PostgreSQL test server,
and explain each kind of failure in plain words.

About "wrong password": the test server's pg_hba.conf trusts every local connection
(``host all all 127.0.0.1/32 trust``), so PostgreSQL accepts *any* password there. A
wrong password (SQLSTATE 28P01) is therefore refused by a fake server that asks for the
password the way PostgreSQL does (tests/support/fake_pg.py); the real server is used for
what it does reject: a role that does not exist and one that may not log in (28000).
"""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from filemeta_gui.services.connection_check import SchemaVerdict, check_connection
from filemeta_gui.services.container import Services
from filemeta_gui.ui.connection_settings import (
    ConnectionSettings,
    PasswordStore,
    RecentConnections,
)
from filemeta_gui.ui.dialogs.connect_dialog import ConnectDialog
from tests.support.fake_pg import WrongPasswordServer
from tests.support.pg import PgServer


class MemoryKeyring:
    """A keyring back end that keeps passwords in a dict (the system one is not touched)."""

    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.saved.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.saved[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        self.saved.pop((service, user), None)


# PostgreSQL set-up runs ``asyncio.run`` (tests.support.pg), which cannot happen once the
# qasync loop is running: these fixtures come before ``qasync_loop`` in every test.


@pytest.fixture
def empty_pg_db(pg_server: PgServer) -> str:
    return pg_server.create_database()


@pytest.fixture
def foreign_pg_db(pg_server: PgServer) -> str:
    name = pg_server.create_database()
    pg_server.run("CREATE TABLE invoices (id int PRIMARY KEY)", database=name)
    return name


@pytest.fixture
def nologin_role(pg_server: PgServer) -> str:
    """A throw-away role with a password that may not log in (see the module docstring)."""
    role = f"filemeta_test_{uuid.uuid4().hex[:10]}"
    pg_server.run(f"CREATE ROLE \"{role}\" NOLOGIN PASSWORD 'right-password'")
    pg_server.roles.append(role)
    return role


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def recent(settings_file: Path) -> RecentConnections:
    return RecentConnections(QSettings(str(settings_file), QSettings.Format.IniFormat))


@pytest.fixture
def opened(qasync_loop: Any, run_async: Any) -> Iterator[list[Services]]:
    """Services opened by dialogs; closed while the loop still runs."""
    found: list[Services] = []
    yield found
    for services in found:
        run_async(services.close())


def make_dialog(
    qtbot: QtBot, recent: RecentConnections, keyring: MemoryKeyring | None = None, **kw: Any
) -> ConnectDialog:
    passwords = PasswordStore(keyring) if keyring else PasswordStore(system=False)
    dialog = ConnectDialog(recent=recent, passwords=passwords, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill_postgres(
    qtbot: QtBot,
    dialog: ConnectDialog,
    server: PgServer,
    database: str,
    user: str | None = None,
    password: str = "",
    port: int | None = None,
) -> None:
    """Type the server's coordinates into the PostgreSQL page, as a user would."""
    dialog.tabs.setCurrentIndex(1)
    page = dialog.pg_page
    for edit, text in (
        (page.host_edit, server.url.host or "127.0.0.1"),
        (page.database_edit, database),
        (page.user_edit, user if user is not None else (server.url.username or "")),
        (page.password_edit, password),
    ):
        edit.clear()
        qtbot.keyClicks(edit, text)
    page.port_spin.setValue(port or server.url.port or 5432)


def click_and_wait(qtbot: QtBot, dialog: ConnectDialog, button: Any) -> str:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    return dialog.status_text()


def test_connects_to_postgres_through_the_dialog(
    qtbot: QtBot,
    pg_server: PgServer,
    empty_pg_db: str,
    recent: RecentConnections,
    settings_file: Path,
    opened: list[Services],
    run_async: Any,
) -> None:
    name = empty_pg_db  # empty: connecting sets up a new library
    keyring = MemoryKeyring()
    dialog = make_dialog(qtbot, recent, keyring)
    fill_postgres(qtbot, dialog, pg_server, name, password="s3cret-pass")
    dialog.pg_page.remember_check.setChecked(True)

    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert "Connected to the server (PostgreSQL" in status
    assert "set up a new library" in status
    url = dialog.pg_page.settings().url()
    again = run_async(check_connection(url))
    assert again.verdict is SchemaVerdict.NEW, "Test connection must not change the database"

    with qtbot.waitSignal(dialog.accepted, timeout=60_000):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    assert isinstance(dialog.opened, Services)
    opened.append(dialog.opened)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert run_async(check_connection(url)).verdict is SchemaVerdict.CURRENT

    remembered = recent.load()
    assert remembered[0].kind == "postgresql" and remembered[0].database == name
    assert "s3cret-pass" not in settings_file.read_text(), "passwords never go to QSettings"
    assert list(keyring.saved.values()) == ["s3cret-pass"]


def test_recent_connection_uses_the_saved_password(
    qtbot: QtBot,
    pg_server: PgServer,
    empty_pg_db: str,
    recent: RecentConnections,
    opened: list[Services],
) -> None:
    name = empty_pg_db
    keyring = MemoryKeyring()
    first = make_dialog(qtbot, recent, keyring)
    fill_postgres(qtbot, first, pg_server, name, password="kept-in-keyring")
    first.pg_page.remember_check.setChecked(True)
    with qtbot.waitSignal(first.accepted, timeout=60_000):
        first.connect_button.click()
    opened.append(first.opened)

    urls: list[str] = []

    async def recording_opener(url: str) -> Services:
        urls.append(url)
        return await Services.open(url)

    second = make_dialog(qtbot, recent, keyring, opener=recording_opener)
    assert second.recent_combo.count() == 1
    assert second.tabs.currentIndex() == 1, "the last connection is shown first"
    assert second.pg_page.database_edit.text() == name
    assert second.pg_page.password_edit.text() == ""
    with qtbot.waitSignal(second.accepted, timeout=60_000):
        second.connect_button.click()
    opened.append(second.opened)
    assert ":kept-in-keyring@" in urls[0]


@pytest.mark.parametrize("may_exist", [False, True], ids=["unknown-role", "role-without-login"])
def test_rejected_login_says_wrong_user_or_password(
    qtbot: QtBot,
    pg_server: PgServer,
    request: pytest.FixtureRequest,
    recent: RecentConnections,
    may_exist: bool,
) -> None:
    role = (
        str(request.getfixturevalue("nologin_role"))
        if may_exist
        else f"filemeta_test_{uuid.uuid4().hex[:10]}"
    )
    request.getfixturevalue("qasync_loop")
    dialog = make_dialog(qtbot, recent)
    fill_postgres(qtbot, dialog, pg_server, "postgres", user=role, password="wrong-password")

    status = click_and_wait(qtbot, dialog, dialog.test_button)

    assert status.startswith("Could not connect: ")
    assert "wrong user name or password" in status
    assert "wrong-password" not in status, "a password is never shown"
    assert recent.load() == [], "a failed connection is not remembered"


@pytest.fixture
def wrong_password_server(qasync_loop: Any, run_async: Any) -> Iterator[WrongPasswordServer]:
    """A server on the dialog's loop that asks for the password and refuses it."""
    server = WrongPasswordServer()
    run_async(server.__aenter__())
    yield server
    run_async(server.__aexit__())


def test_a_wrong_password_shows_the_message(
    qtbot: QtBot, recent: RecentConnections, wrong_password_server: WrongPasswordServer
) -> None:
    dialog = make_dialog(qtbot, recent)
    dialog.tabs.setCurrentIndex(1)
    page = dialog.pg_page
    for edit, text in (
        (page.host_edit, "127.0.0.1"),
        (page.database_edit, "photos"),
        (page.user_edit, "alice"),
        (page.password_edit, "not-her-password"),
    ):
        edit.clear()
        qtbot.keyClicks(edit, text)
    page.port_spin.setValue(wrong_password_server.port)

    for button in (dialog.test_button, dialog.connect_button):
        status = click_and_wait(qtbot, dialog, button)
        assert status.startswith(
            "Could not connect: Could not log in to the database 'photos' on 127.0.0.1: "
            "wrong user name or password"
        ), status
        assert 'password authentication failed for user "alice"' in status
        assert "not-her-password" not in status, "a password is never shown"

    assert set(wrong_password_server.passwords) == {"not-her-password"}, "never asked"
    assert dialog.isVisible() and dialog.opened is None
    assert recent.load() == [], "a failed connection is not remembered"


def test_closed_port_says_nothing_answers(
    qtbot: QtBot, pg_server: PgServer, recent: RecentConnections, qasync_loop: Any
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = make_dialog(qtbot, recent)
    fill_postgres(qtbot, dialog, pg_server, "postgres", port=port)

    status = click_and_wait(qtbot, dialog, dialog.connect_button)

    assert status.startswith("Could not connect: ")
    assert "unreachable" in status and "nothing answers" in status
    assert dialog.isVisible() and dialog.opened is None


def test_missing_database_is_named(
    qtbot: QtBot, pg_server: PgServer, recent: RecentConnections, qasync_loop: Any
) -> None:
    dialog = make_dialog(qtbot, recent)
    fill_postgres(qtbot, dialog, pg_server, "no_such_library_db")
    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert "'no_such_library_db'" in status and "does not exist" in status


def test_foreign_database_is_not_a_filemeta_database(
    qtbot: QtBot,
    pg_server: PgServer,
    foreign_pg_db: str,
    recent: RecentConnections,
    qasync_loop: Any,
) -> None:
    dialog = make_dialog(qtbot, recent)
    fill_postgres(qtbot, dialog, pg_server, foreign_pg_db)

    status = click_and_wait(qtbot, dialog, dialog.connect_button)

    assert status.startswith("Not a FileMeta database: ")
    assert "invoices" in status
    assert dialog.opened is None


def test_library_from_a_newer_filemeta_opens_read_only(
    qtbot: QtBot,
    sqlite_template: Path,
    tmp_path: Path,
    recent: RecentConnections,
    opened: list[Services],
    qasync_loop: Any,
) -> None:
    path = tmp_path / "future.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00000000099'")
    dialog = make_dialog(qtbot, recent)
    dialog.tabs.setCurrentIndex(0)
    qtbot.keyClicks(dialog.sqlite_page.path_edit, str(path))

    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert status.startswith("This library needs a newer FileMeta: ")
    assert "f00000000099" in status

    # Connecting opens it read-only (the team-server rule): reading works, writing is
    # refused, and the window's notice names the version it needs.
    status = click_and_wait(qtbot, dialog, dialog.connect_button)
    assert status == "Connected."
    assert isinstance(dialog.opened, Services)
    opened.append(dialog.opened)
    assert dialog.opened.database.read_only
    assert "f00000000099" in (dialog.opened.database.read_only_reason or "")


def test_new_sqlite_library_is_created_on_connect_not_on_test(
    qtbot: QtBot, tmp_path: Path, recent: RecentConnections, opened: list[Services]
) -> None:
    path = tmp_path / "fresh" / "photos.sqlite3"
    path.parent.mkdir()
    dialog = make_dialog(qtbot, recent)
    dialog.set_settings(ConnectionSettings(kind="sqlite", path=str(path)))

    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert "can be created" in status
    assert not path.exists()

    with qtbot.waitSignal(dialog.accepted, timeout=60_000):
        dialog.connect_button.click()
    opened.append(dialog.opened)
    assert path.exists()
    assert recent.last() == ConnectionSettings(kind="sqlite", path=str(path))


def test_missing_fields_and_missing_folders_are_explained(
    qtbot: QtBot, tmp_path: Path, recent: RecentConnections, qasync_loop: Any
) -> None:
    dialog = make_dialog(qtbot, recent)
    dialog.tabs.setCurrentIndex(0)
    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert status == "The settings are not complete: Choose or create a library file."

    qtbot.keyClicks(dialog.sqlite_page.path_edit, str(tmp_path / "nowhere" / "x.sqlite3"))
    status = click_and_wait(qtbot, dialog, dialog.test_button)
    assert status.startswith("Could not connect: ") and "does not exist" in status


def test_without_a_keyring_the_password_is_asked(qtbot: QtBot, recent: RecentConnections) -> None:
    dialog = make_dialog(qtbot, recent)
    assert not dialog.pg_page.remember_check.isEnabled()
    assert "asked each time" in dialog.pg_page.remember_check.text()
