"""The three admin dialogs on a real library (both backends), driven as an admin would.

Synchronous tests on a qasync loop (tests/ui/conftest.py): ``qtbot.waitUntil`` processes
Qt events, which runs the dialogs' tasks; nothing waits by sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.enums import AccessType, Role
from filemeta_gui.domain.records import FileRecord
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.ui.dialogs.admin_common import AdminDialog
from filemeta_gui.ui.dialogs.permissions_dialog import PermissionsDialog
from filemeta_gui.ui.dialogs.user_access_dialog import UserAccessDialog
from filemeta_gui.ui.dialogs.users_dialog import UsersDialog
from tests.repositories.factories import add_files, file_row
from tests.ui.conftest import run

NewLogin = Callable[[str], str]


@pytest.fixture
def admin(
    db_url: str, new_login: NewLogin, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> Iterator[Services]:
    """The library's services as its admin. ``db_url`` and ``new_login`` come before the
    loop: their set-up and clean-up use ``asyncio.run``, impossible while it runs."""
    services = run(qtbot, qloop, Services.open(db_url))
    yield services
    run(qtbot, qloop, services.close())


@pytest.fixture
def files(admin: Services, run_async: Any) -> list[FileRecord]:
    async def add() -> list[FileRecord]:
        async with admin.database.session() as session:
            rows = await add_files(session, *(file_row(f"/team/f{i}.txt") for i in range(3)))
        return await admin.library.get_many([r.id for r in rows])

    return list(run_async(add()))


def wait(qtbot: QtBot, dialog: AdminDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.busy, timeout=20_000)


def opened(qtbot: QtBot, dialog: AdminDialog) -> AdminDialog:
    qtbot.addWidget(dialog)
    dialog.show()
    wait(qtbot, dialog)
    return dialog


def confirm(qtbot: QtBot, dialog: UsersDialog) -> None:
    box = dialog.confirm_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    wait(qtbot, dialog)


def test_users_dialog_adds_changes_and_removes(
    admin: Services, new_login: NewLogin, qtbot: QtBot
) -> None:
    me = admin.identity.user
    assert me is not None
    dialog = opened(qtbot, UsersDialog(admin.users))
    assert isinstance(dialog, UsersDialog)
    assert [u.id for u in dialog.records] == [me.id]

    login = new_login("ann")
    dialog.add_button.click()
    form = dialog.form
    assert form is not None
    qtbot.keyClicks(form.login_edit, login)
    qtbot.keyClicks(form.address_edit, "10.0.0.300")
    assert not form.ok_button.isEnabled() and "Not an address" in form.problem.text()
    form.address_edit.setText("10.0.0.0/24")
    assert form.ok_button.isEnabled()
    form.ok_button.click()
    wait(qtbot, dialog)
    added = {u.login: u for u in dialog.records}[login]
    assert (added.role, added.ip_address) == (Role.GUEST, "10.0.0.0/24")

    with qtbot.waitSignal(dialog.failed):
        dialog.add(login, "10.0.0.1", Role.GUEST)
    wait(qtbot, dialog)
    assert "already exists" in dialog.problem.text()
    assert [u.login for u in dialog.records].count(login) == 1

    dialog.select(login)
    assert dialog.role_button.text() == "Make admin"
    dialog.role_button.click()
    wait(qtbot, dialog)
    assert dialog.selected() is not None and dialog.selected().role is Role.ADMIN  # type: ignore[union-attr]
    assert dialog.role_button.text() == "Make guest" and not dialog.problem.isVisible()

    dialog.disable_button.click()
    wait(qtbot, dialog)
    assert dialog.selected().disabled and dialog.disable_button.text() == "Enable"  # type: ignore[union-attr]

    dialog.address_button.click()
    assert dialog.form is not None
    dialog.form.address_edit.setText("192.168.0.0/16")
    dialog.form.ok_button.click()
    wait(qtbot, dialog)
    assert dialog.selected().ip_address == "192.168.0.0/16"  # type: ignore[union-attr]

    dialog.remove_button.click()
    confirm(qtbot, dialog)
    assert login not in [u.login for u in dialog.records]


def test_the_last_admin_is_kept_and_the_reason_shown(admin: Services, qtbot: QtBot) -> None:
    me = admin.identity.user
    assert me is not None
    dialog = opened(qtbot, UsersDialog(admin.users))
    assert isinstance(dialog, UsersDialog)
    dialog.select(me.login)
    dialog.remove_button.click()
    confirm(qtbot, dialog)
    assert "last admin" in dialog.problem.text() and dialog.problem.isVisible()
    assert [u.id for u in dialog.records] == [me.id]
    dialog.role_button.click()  # "Make guest" on the only admin
    wait(qtbot, dialog)
    assert "last admin" in dialog.problem.text()
    assert dialog.records[0].role is Role.ADMIN


def test_permissions_dialog_grants_changes_and_revokes_for_many_files(
    admin: Services, files: list[FileRecord], new_login: NewLogin, qtbot: QtBot, run_async: Any
) -> None:
    login = new_login("ben")
    run_async(admin.users.add(login, "10.0.0.5"))
    dialog = opened(qtbot, PermissionsDialog(admin.permissions, admin.users, files[:2]))
    assert isinstance(dialog, PermissionsDialog)
    assert dialog.rows() == [] and "f0.txt, f1.txt" in dialog.header.text()
    assert [dialog.user_combo.itemText(i) for i in range(dialog.user_combo.count())] == [login]

    dialog.choose(login, AccessType.WRITE)
    with qtbot.waitSignal(dialog.changed):
        dialog.grant_button.click()
    wait(qtbot, dialog)
    assert dialog.rows() == [(login, "write", "2 of 2 files")]

    run_async(admin.permissions.grant(login, AccessType.READ, [files[0].id]))
    dialog.refresh()
    wait(qtbot, dialog)
    assert dialog.rows() == [(login, "write 1, read 1", "2 of 2 files")]

    dialog.view.selectRow(0)
    dialog.revoke_button.click()
    wait(qtbot, dialog)
    assert dialog.rows() == []
    assert run_async(admin.permissions.for_files([f.id for f in files])) == []


def test_granting_a_file_gone_meanwhile_changes_nothing(
    admin: Services, files: list[FileRecord], new_login: NewLogin, qtbot: QtBot, run_async: Any
) -> None:
    login = new_login("cat")
    run_async(admin.users.add(login, "10.0.0.6"))
    dialog = opened(qtbot, PermissionsDialog(admin.permissions, admin.users, files))
    assert isinstance(dialog, PermissionsDialog)

    async def forget_one() -> None:
        from filemeta_gui.repositories.files import FileRepository

        async with admin.database.session() as session:
            await FileRepository(session).delete(files[2].id)

    run_async(forget_one())
    dialog.choose(login, AccessType.READ)
    dialog.grant_button.click()
    wait(qtbot, dialog)
    assert "not in the library" in dialog.problem.text()
    assert dialog.rows() == []


def test_access_of_a_user(
    admin: Services, files: list[FileRecord], new_login: NewLogin, qtbot: QtBot, run_async: Any
) -> None:
    login = new_login("dee")
    run_async(admin.users.add(login, "10.0.0.7"))
    run_async(admin.permissions.grant(login, AccessType.READ, [files[0].id]))
    run_async(admin.permissions.grant(login, AccessType.DELETE, [files[2].id]))
    dialog = opened(qtbot, UserAccessDialog(admin.permissions, admin.users, login=login))
    assert isinstance(dialog, UserAccessDialog)
    assert dialog.rows() == [("read", "/team/f0.txt"), ("delete", "/team/f2.txt")]
    assert "may use 2 files" in dialog.summary.text()

    me = admin.identity.user
    assert me is not None
    dialog.choose(me.login)
    wait(qtbot, dialog)
    assert "is an admin" in dialog.summary.text() and dialog.rows() == []

    dialog.choose(login)
    wait(qtbot, dialog)
    dialog.view.selectRow(0)
    with qtbot.waitSignal(dialog.changed):
        dialog.revoke_button.click()
    wait(qtbot, dialog)
    assert dialog.rows() == [("delete", "/team/f2.txt")]


def test_a_guest_opening_an_admin_dialog_is_told_no(
    admin: Services, new_login: NewLogin, qtbot: QtBot, run_async: Any
) -> None:
    login = new_login("eve")
    guest = run_async(admin.users.add(login, "10.0.0.8"))
    as_guest = Services(admin.database, Identity(user=guest, login=login))
    for dialog in (
        UsersDialog(as_guest.users),
        UserAccessDialog(as_guest.permissions, as_guest.users),
        PermissionsDialog(as_guest.permissions, as_guest.users, []),
    ):
        opened(qtbot, dialog)
        assert "Only an admin" in dialog.problem.text()
