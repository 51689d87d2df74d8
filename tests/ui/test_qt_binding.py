"""Guard against a Qt binding that corrupts reference counts (PySide6 6.12.0).

That release drops a reference to the returned ``True``/``False``/``None`` on every call
such as ``Signal.emit()`` or ``QLabel.setText()``; on CPython 3.11, where those objects
are not immortal, the interpreter aborts after a few thousand calls. pyproject.toml
excludes the release; this test fails loudly if such a binding is installed anyway.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel

CALLS = 200


class _Probe(QObject):
    ping = Signal()


def test_signal_emit_keeps_references_to_true(qapp: object) -> None:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(CALLS):
        probe.ping.emit()
    assert sys.getrefcount(True) >= before - 1


def test_void_methods_keep_references_to_none(qapp: object) -> None:
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(CALLS):
        label.setText("x")
    assert sys.getrefcount(None) >= before - CALLS // 4
