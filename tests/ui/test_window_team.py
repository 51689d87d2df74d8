"""The window in a team: live updates from another client, the admin menu, notices."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from filemeta_gui.domain.changes import RefreshPlan
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.services.container import Services
from filemeta_gui.services.identity import Identity
from filemeta_gui.ui.scan_controller import SCAN_KEY
from tests.ui.conftest import wait_idle, wait_scanned

# The target is 1 s; the timeout leaves room for a loaded CI machine.
LIVE_UPDATE_TIMEOUT_MS = 3_000


def test_a_teammates_tag_appears_without_a_reload(
    window: Any, qtbot: QtBot, run_async: Any, sample_tree: Path, db_url: str
) -> None:
    wait_scanned(qtbot, window, sample_tree)
    assert window.sidebar_model.tag_count("from-teammate") is None  # no such tag yet
    other: Services = run_async(Services.open(db_url))
    try:
        page = run_async(other.library.page("beach", PageRequest()))
        run_async(other.tags.attach(["from-teammate"], [page.rows[0].id]))
        qtbot.waitUntil(
            lambda: window.sidebar_model.tag_count("from-teammate") == 1,
            timeout=LIVE_UPDATE_TIMEOUT_MS,
        )
    finally:
        run_async(other.close())
    wait_idle(qtbot, window)


def test_admins_see_the_admin_menu(window: Any) -> None:
    assert window.services.identity.is_admin
    assert window.team.admin_menu.menuAction().isVisible()
    assert not window.team.notice.isVisible()


def test_an_unknown_user_sees_a_notice_and_no_admin_menu(
    window: Any, qtbot: QtBot, run_async: Any
) -> None:
    services = window.services
    stranger = Services(services.database, Identity(user=None, problem="Not registered here."))
    run_async(window.team.attach(stranger))
    assert not window.team.admin_menu.menuAction().isVisible()
    assert window.team.notice.isVisible()
    assert window.team.notice.label.text() == "Not registered here."
    run_async(window.team.attach(services))
    assert not window.team.notice.isVisible()


def test_the_users_dialog_opens_from_the_admin_menu(window: Any, qtbot: QtBot) -> None:
    dialog = window.team.show_users()
    assert dialog is not None and dialog.isVisible()
    # The library's own admin (the local user, or the first PostgreSQL login) is listed.
    qtbot.waitUntil(lambda: dialog.view.rowCount() == 1)
    dialog.close()
    wait_idle(qtbot, window)


def test_a_library_from_a_newer_filemeta_shows_a_read_only_notice(
    window: Any, qtbot: QtBot, run_async: Any, sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "future.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00000000099'")
    services = run_async(Services.open_for_app(f"sqlite:///{path}"))
    run_async(window.attach(services))
    wait_idle(qtbot, window)
    assert window.team.notice.isVisible()
    assert "f00000000099" in window.team.notice.label.text()
    assert not window.team.notice.button.isVisible()  # nothing to offer: it is read-only


def test_changes_during_our_own_scan_wait_for_the_scans_refresh(
    window: Any, qtbot: QtBot, run_async: Any, sample_tree: Path
) -> None:
    """The scan's own commits arrive as change events ("everything" on SQLite, files and
    tag counts on PostgreSQL): while it runs they must not each reload the window."""
    wait_scanned(qtbot, window, sample_tree)
    everything = RefreshPlan(all_files=True, counts=True, tags=True, folders=True)
    running = asyncio.Event()
    scan = window.tasks.start(running.wait(), key=SCAN_KEY)  # a scan, as the window sees it
    try:
        window.team.apply_refresh(everything)
        assert not window.model.loading
        assert not window.tasks.running("sidebar")
    finally:
        scan.cancel()
    qtbot.waitUntil(lambda: not window.scan.running)
    window.team.apply_refresh(everything)  # no scan: a teammate's change, reloaded now
    assert window.model.loading
    wait_idle(qtbot, window)
