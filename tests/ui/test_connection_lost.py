"""The PostgreSQL server goes away under an open window and comes back.

The window reaches the real test server through a proxy (tests/support/tcp_proxy.py)
that can play the server going down: its connections close and new ones are refused.
While it is down, failing actions raise the connection banner, not one dialog each;
once the banner's retry gets through, the window reloads what it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from filemeta_gui.services.container import Services
from tests.support.live import add_file
from tests.support.tcp_proxy import TcpProxy
from tests.ui.conftest import attached_window, wait_idle

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture
def proxy(db_url: str, run_async: Any) -> Iterator[TcpProxy]:
    """A proxy in front of this test's database, on the window's (qasync) loop."""
    url = make_url(db_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    run_async(proxy.__aenter__())
    yield proxy
    run_async(proxy.__aexit__())


@pytest.fixture
def proxied_window(
    db_url: str, proxy: TcpProxy, qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> Iterator[Any]:
    url = make_url(db_url).set(host="127.0.0.1", port=proxy.port)
    with attached_window(url.render_as_string(hide_password=False), qtbot, qloop) as window:
        yield window


def test_a_server_that_goes_away_shows_the_banner_and_the_window_reloads_when_it_is_back(
    proxied_window: Any,
    proxy: TcpProxy,
    db_url: str,
    qtbot: QtBot,
    run_async: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = proxied_window
    # The live-update listener would reload everything on its own reconnect (see
    # test_window_team): stopped here, only the banner can bring the window back.
    run_async(window.team.stop())
    # Retry when the button is pressed only: no timer racing the test's steps.
    monkeypatch.setattr(window.banner, "FIRST_DELAY_MS", 60_000)
    dialogs: list[str] = []
    window.errors.shown.connect(dialogs.append)
    assert window.model.total == 0 and not window.sidebar_model.folders

    run_async(proxy.cut())
    window.refresh()  # the list and the sidebar: two failures
    window.scan.add_folder(str(tmp_path))  # a user's action: a third
    qtbot.waitUntil(window.banner.isVisible)
    wait_idle(qtbot, window)
    assert "was lost" in window.banner.message_label.text()
    assert window.errors.dialog is None and dialogs == [], "one banner, no dialog per action"
    with qtbot.waitSignal(window.banner.retry_failed):
        window.banner.retry_button.click()  # still down: the banner stays up
    assert window.banner.isVisible()

    # Meanwhile a teammate, whose connection still works, adds a folder and a file.
    teammate: Services = run_async(Services.open(db_url))
    try:
        run_async(teammate.folders.add(str(tmp_path)))
        run_async(add_file(teammate.database, str(tmp_path / "notes.txt")))
    finally:
        run_async(teammate.close())

    run_async(proxy.restore())
    qtbot.waitUntil(lambda: not window.banner.retrying)
    back = [(window.banner.restored, "restored"), (window.sidebar_refreshed, "sidebar reloaded")]
    with qtbot.waitSignals(back):
        window.banner.retry_button.click()
    assert window.banner.isHidden()
    assert [folder.path for folder in window.sidebar_model.folders] == [str(tmp_path)]
    qtbot.waitUntil(lambda: window.model.total == 1)
    wait_idle(qtbot, window)
    record = window.model.record(0)
    assert record is not None and record.filename == "notes.txt"
    assert dialogs == []
