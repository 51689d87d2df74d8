"""The scanning child process runs behind the window (see ``child._yield_the_processor``)."""

from __future__ import annotations

import os
import subprocess
import sys

from filemeta_gui.services.indexer.child import NICENESS
from filemeta_gui.services.indexer.isolated import child_environment

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
