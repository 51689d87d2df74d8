"""The scanning child process runs behind the window (see ``child._yield_the_processor``)."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import aclosing
from pathlib import Path

import pytest

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.scan import ScanOptions
from filemeta_gui.services.indexer.child import NICENESS
from filemeta_gui.services.indexer.child_protocol import ScanRequest
from filemeta_gui.services.indexer.isolated import ChildScan, child_environment
from tests.services.indexer.conftest import register

_PROBE = (
    "import os\n"
    "from filemeta_gui.services.indexer.child import _yield_the_processor\n"
    "before = os.nice(0)\n"
    "_yield_the_processor()\n"
    "print(os.nice(0) - before)\n"
)


def test_the_scan_process_lowers_its_own_priority() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=child_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    ceiling = 19 - os.nice(0)  # a process already near the bottom cannot go lower
    assert int(result.stdout) == min(NICENESS, ceiling)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_scan_process_stays_in_the_apps_session(
    database: Database, db_url: str, tree: Path
) -> None:
    """Linux shares the processor between sessions before it looks at niceness, which
    counts only within a session: a scan in a session of its own took a core's worth of
    time from the window however low its priority. Its own process group is enough for
    stopping it with its hash workers."""
    folder_id = await register(database, tree)
    scan = ChildScan(ScanRequest(db_url, folder_id, ScanOptions(), None))
    seen: list[tuple[int, int]] = []
    async with aclosing(scan.progress()) as progress:
        async for snapshot in progress:
            if not seen:
                assert scan.pid is not None
                seen.append((os.getsid(scan.pid), os.getpgid(scan.pid)))
            last = snapshot
    assert last.done and last.new > 0
    assert seen == [(os.getsid(0), scan.pid)]
