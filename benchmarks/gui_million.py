"""The real main window over a big library, offscreen: first paint, scrolling, memory.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_million.py --db sqlite:////tmp/fm_bench/library-1m.sqlite3

Run by ``bench_million.py`` in a subprocess (its own resident memory is then the window's).
Opens the library with ``Services.open`` and ``MainWindow.attach`` as the app does, then
measures:

* first paint: from creating the window until row 0 of the table holds a file and the
  view has repainted (``attached_s``: until ``attach`` returned, the sidebar's folder and
  tag counts included; ``total_s``: until the row count was known);
* jump to the middle (row total/2) and scroll to the end (``scrollToBottom``): until the
  rows shown there hold files;
* the longest event-loop stall during all of it (a 5 ms Qt timer, ``ui.stall_meter``),
  and separately while opening and while browsing (the jump and the scroll);
* resident memory (VmRSS) and its peak (VmHWM) at the end.

``BENCH_TRACE_MS=40`` prints the GUI thread's stack during stalls longer than that.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qasync
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QApplication

POLL_S = 0.005


def memory_mb() -> dict[str, float]:
    """VmRSS and VmHWM of this process, in MB."""
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


async def wait_for(condition: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``condition()`` holds (polled while the event loop runs), or -1."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            return -1.0
        await asyncio.sleep(POLL_S)
    return time.perf_counter() - started


def shown(window: Any, row: int) -> bool:
    model = window.model
    return 0 <= row < model.rowCount() and model.record(row) is not None


def at_end(window: Any) -> bool:
    model, table = window.model, window.ui.table
    rows = model.rowCount()
    if rows == 0 or model.canFetchMore(QModelIndex()):
        table.scrollToBottom()  # a model that appends pages: keep asking for more
        return False
    last = table.rowAt(table.viewport().height() - 1)
    last = rows - 1 if last < 0 else last
    return shown(window, last) and shown(window, rows - 1)


def print_traces(traces: list[str]) -> None:
    """The stacks ``BENCH_TRACE_MS`` asked for, on stderr: stdout's last line is the JSON."""
    for stack in traces:
        print("--- GUI thread blocked here:", stack, sep="\n", file=sys.stderr)


async def measure(url: str, timeout_s: float) -> dict[str, Any]:
    from filemeta_gui.app import prepare_application
    from filemeta_gui.services.container import Services
    from filemeta_gui.startup import freeze_startup_objects
    from filemeta_gui.ui.main_window import MainWindow
    from filemeta_gui.ui.stall_meter import StallMeter

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    prepare_application(app)
    result: dict[str, Any] = {"baseline": memory_mb()}
    meter = StallMeter(5, trace_over_ms=float(os.environ.get("BENCH_TRACE_MS", "0")) or None)
    meter.start()
    started = time.perf_counter()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    services = await Services.open(url)
    result["open_s"] = time.perf_counter() - started
    # attach() also waits for the sidebar (folder and tag counts); the table fills meanwhile.
    attaching = asyncio.ensure_future(window.attach(services))
    first = await wait_for(lambda: shown(window, 0), timeout_s)
    window.ui.table.viewport().repaint()
    result["first_paint_s"] = time.perf_counter() - started if first >= 0 else -1.0
    await attaching
    result["attached_s"] = time.perf_counter() - started
    freeze_startup_objects()  # as the app does once the library is shown
    await wait_for(lambda: (window.model.total or 0) > 0, timeout_s)
    result["total_s"] = time.perf_counter() - started
    # Opening includes work that runs once (imports, the schema check, the first layout):
    # browsing gets a meter of its own.
    meter.stop()
    print_traces(meter.traces)
    result["startup_stall_ms"] = meter.max_stall_ms
    meter.start()
    result["rows"] = window.model.rowCount()
    result["total"] = window.model.total
    middle = window.model.rowCount() // 2
    jump = time.perf_counter()
    window.ui.table.scrollTo(
        window.model.index(middle, 0), QAbstractItemView.ScrollHint.PositionAtCenter
    )
    found = await wait_for(lambda: shown(window, middle), timeout_s)
    result["middle_s"] = time.perf_counter() - jump if found >= 0 else -1.0
    end = time.perf_counter()
    window.ui.table.scrollToBottom()
    found = await wait_for(lambda: at_end(window), timeout_s)
    result["end_s"] = time.perf_counter() - end if found >= 0 else -1.0
    result["rows_at_end"] = window.model.rowCount()
    meter.stop()
    print_traces(meter.traces)
    result["max_stall_ms"] = max(meter.max_stall_ms, result["startup_stall_ms"])
    result["browsing_stall_ms"] = meter.max_stall_ms
    result["memory"] = memory_mb()
    await window.shutdown()
    window.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="library URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per step")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    result = qasync.run(measure(args.db, args.timeout))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
