"""Running the ``filemeta`` command line in-process, as the CLI tests do."""

from __future__ import annotations

import pytest

from filemeta_gui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``filemeta argv…``: its exit code, then what it printed to stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
