"""The Qt side of live updates: the notifier turns another client's change into signals.

Synchronous tests on a qasync loop driven by ``qtbot.waitUntil`` (never from ``async def``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeEvent, RefreshPlan
from filemeta_gui.services.access import AccessPolicy
from filemeta_gui.services.changes import ChangeFeed
from filemeta_gui.services.tags import TagService
from filemeta_gui.ui.change_notifier import ChangeNotifier
from tests.support.live import add_file, admin_policy, count, terminate_backends
from tests.ui.conftest import run

TIMEOUT_MS = 10_000


class _Clients:
    """Two clients of one library on the qasync loop: ``mine`` listens, ``theirs`` writes."""

    def __init__(self, qtbot: QtBot, loop: asyncio.AbstractEventLoop, db_url: str) -> None:
        self.qtbot, self.loop = qtbot, loop
        self.mine = self.run(Database.open(db_url))
        self.theirs = self.run(Database.open(db_url))
        self.policy: AccessPolicy = self.run(admin_policy(self.mine))

    def run(self, coro: Any) -> Any:
        return run(self.qtbot, self.loop, coro)

    def tag(self, name: str, file_id: uuid.UUID) -> None:
        self.run(TagService(self.theirs, self.policy).attach([name], [file_id]))

    def close(self) -> None:
        self.run(self.mine.dispose())
        self.run(self.theirs.dispose())


@pytest.fixture
def clients(db_url: str, qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Iterator[_Clients]:
    both = _Clients(qtbot, qloop, db_url)
    try:
        yield both
    finally:
        both.close()


@pytest.fixture
def notifier(clients: _Clients) -> Iterator[ChangeNotifier]:
    feed = ChangeFeed(clients.mine, clients.policy, poll_s=0.05)
    watching = ChangeNotifier(feed, debounce_ms=20)
    try:
        yield watching
    finally:
        clients.run(watching.stop())


def _record(notifier: ChangeNotifier) -> tuple[list[ChangeEvent], list[RefreshPlan], list[str]]:
    changes: list[ChangeEvent] = []
    plans: list[RefreshPlan] = []
    statuses: list[str] = []
    notifier.changed.connect(changes.append)
    notifier.refresh.connect(plans.append)
    notifier.status.connect(statuses.append)
    return changes, plans, statuses


def test_the_notifier_reports_another_clients_change(
    clients: _Clients, notifier: ChangeNotifier, qtbot: QtBot, db_url: str
) -> None:
    file_id = clients.run(add_file(clients.theirs, "/shared/minutes.odt"))
    changes, plans, statuses = _record(notifier)
    notifier.start()
    qtbot.waitUntil(lambda: notifier.connected, timeout=TIMEOUT_MS)
    assert statuses  # the status bar was told

    with qtbot.waitSignal(notifier.changed, timeout=TIMEOUT_MS):
        clients.tag("minutes", file_id)
    if clients.mine.is_sqlite:
        # SQLite cannot say what changed: everything is reloaded.
        qtbot.waitUntil(lambda: any(p.all_files and p.tags for p in plans), timeout=TIMEOUT_MS)
    else:
        qtbot.waitUntil(lambda: any(file_id in c.ids for c in changes), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: any(file_id in p.file_ids for p in plans), timeout=TIMEOUT_MS)
        assert any(p.tags for p in plans)  # the sidebar's tag counts too

    clients.run(notifier.stop())
    assert not notifier.running
    if not clients.mine.is_sqlite:
        # The listener's own connection is closed, not left behind on the server. Only
        # this test's database counts: tests running beside it have listeners of their
        # own. The server ends a backend a moment after its client has gone.
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '%listener' "
            "AND datname = current_database()"
        )
        qtbot.waitUntil(lambda: clients.run(count(clients.theirs, sql)) == 0, timeout=TIMEOUT_MS)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_notifier_shows_reconnecting_and_then_reloads_everything(
    clients: _Clients, notifier: ChangeNotifier, qtbot: QtBot, db_url: str
) -> None:
    file_id = clients.run(add_file(clients.theirs, "/shared/agenda.odt"))
    changes, plans, statuses = _record(notifier)
    notifier.start()
    qtbot.waitUntil(lambda: notifier.connected, timeout=TIMEOUT_MS)

    clients.run(terminate_backends(db_url))
    qtbot.waitUntil(lambda: any("reconnecting" in s for s in statuses), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: any("back on" in s for s in statuses), timeout=TIMEOUT_MS)
    assert notifier.connected
    # Changes made while it was down were never told: the plan reloads everything.
    qtbot.waitUntil(lambda: any(p.all_files and p.counts for p in plans), timeout=TIMEOUT_MS)

    clients.tag("later", file_id)
    qtbot.waitUntil(lambda: any(file_id in c.ids for c in changes), timeout=TIMEOUT_MS)
