"""The real main window over a 1,000,000-file library: paint, scroll, sort, filter, memory.

Opens ``MainWindow`` (offscreen unless a display is set) on a library built by
``benchmarks/make_library.py`` and prints, each timed from the action to the paint that
shows its rows (no placeholder left on screen):

* first paint: attaching the library until the first block is on screen; then the count
  (the scrollbar's full length) and the anchors (any depth one keyset query);
* scroll to the end (``scrollToBottom``), a jump to row 500,000, and a scrollbar drag from
  top to bottom in 40 steps at 60 frames a second (block queries counted: only what the
  thumb stopped on is fetched);
* a re-sort (size, descending) and filters (``--filter QUERY``, repeatable; default a
  common word), each to its first block and until complete; ``--filter-order type``
  (or any other column, ``--filter-ascending``) types them in another order;
* the same scroll to the end in the thumbnail grid;
* the longest GUI-thread stall (5 ms timer lateness) while browsing, i.e. after the
  library is shown, and over the whole run with start-up; the process's resident memory
  (``VmRSS``, peak ``VmHWM``) after all of it. Target: RSS <= 500 MB.

Backend figures come first, through the service: first block, count, anchors per sort,
and what an OFFSET at depth 700,000 would cost instead (not used by the app).

    python benchmarks/make_library.py --workdir /tmp/fm_bench        # once
    python benchmarks/bench_gui_million.py --db sqlite:////tmp/fm_bench/library-1m.sqlite3
    python benchmarks/bench_gui_million.py --db postgresql://postgres@127.0.0.1/filemeta_bench_1m

The library is opened like the app opens it (migrated if older). ``--no-grid`` skips the
thumbnail grid; ``BENCH_TRACE_MS=80`` prints the GUI thread's stack during longer stalls.
``--src /tmp/old`` runs another checkout's code (a worktree of an older commit), for an
A/B on one machine; ``filemeta_gui`` is imported from it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qasync
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication

RSS_TARGET_MB = 500
DEFAULT_DB = "sqlite:////tmp/fm_bench/library-1m.sqlite3"
FILTER_TERMS = ("beach",)
"""Queries typed into the search bar, each timed to its first block and to the count."""


class PaintProbe(QObject):
    """Records when a view's viewport last painted."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self.last = 0.0
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.last = time.perf_counter()
        return False


class ChangeProbe(QObject):
    """Records when the model last changed what a view shows (a block, a reset, a count)."""

    def __init__(self, model: Any) -> None:
        super().__init__(model)
        self.last = 0.0
        for signal in (model.block_loaded, model.modelReset, model.rowsInserted):
            signal.connect(self._changed)

    def _changed(self, *_args: object) -> None:
        self.last = time.perf_counter()


async def until(condition: Callable[[], bool], limit_s: float = 120.0) -> float:
    """Poll ``condition`` (every 2 ms, the loop keeps running); returns when it held."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit_s:
            raise TimeoutError("the window never got there")
        await asyncio.sleep(0.002)
    return time.perf_counter()


def visible_rows(view: QAbstractItemView) -> list[int]:
    rect = view.viewport().rect()
    rows = set()
    for y in range(2, rect.height(), 13):
        for x in (30, rect.width() // 2):
            index = view.indexAt(rect.topLeft() + type(rect.topLeft())(x, y))
            if index.isValid():
                rows.add(index.row())
    return sorted(rows)


async def shown(window: Any, view: QAbstractItemView, probe: PaintProbe, since: float) -> float:
    """Seconds from ``since`` to the paint that showed every row on screen (no placeholder),
    or the empty table of a query that matches nothing."""
    model, changes = window.model, window.model.findChild(ChangeProbe)

    def done() -> bool:
        rows = visible_rows(view)
        return (
            model.shown == model.requested()  # the new query's rows, not the old ones
            and bool(rows)
            and all(model.record(row) is not None for row in rows)
            and probe.last >= max(since, changes.last)
        )

    def empty() -> bool:  # the window says so in a label over the table, which is not painted
        return (
            model.shown == model.requested()
            and model.rowCount() == 0
            and model.total == 0
            and changes.last >= since
        )

    await until(lambda: done() or empty())
    return (changes.last if empty() else probe.last) - since


def rss_mb() -> tuple[float, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def backend_figures(services: Any) -> dict[str, float]:
    from sqlalchemy import select

    from filemeta_gui.db.models import File
    from filemeta_gui.domain.enums import SortColumn
    from filemeta_gui.domain.records import PageRequest
    from filemeta_gui.repositories.files import live

    library, figures = services.library, {}
    started = time.perf_counter()
    await library.page("", PageRequest())
    figures["first page"] = time.perf_counter() - started
    started = time.perf_counter()
    total = await library.count("")
    figures["count"] = time.perf_counter() - started
    figures["rows"] = total
    for sort in (SortColumn.NAME, SortColumn.SIZE, SortColumn.MODIFIED, SortColumn.HASH):
        started = time.perf_counter()
        anchors = await library.anchors("", sort, sort is SortColumn.SIZE, 200)
        figures[f"anchors {sort.value}"] = time.perf_counter() - started
    figures["anchors"] = len(anchors)
    statement = (
        select(File.id)
        .where(live())
        .order_by(File.filename, File.id)
        .limit(200)
        .offset(min(700_000, max(total - 200, 0)))
    )
    started = time.perf_counter()
    async with services.database.session() as session:
        await session.execute(statement)
    figures["offset 700k"] = time.perf_counter() - started
    return figures


async def measure(
    url: str,
    drag_steps: int,
    with_grid: bool,
    filters: tuple[str, ...] = FILTER_TERMS,
    filter_order: tuple[str, bool] = ("size", True),
) -> dict[str, Any]:
    from filemeta_gui.app import prepare_application
    from filemeta_gui.services.container import Services
    from filemeta_gui.startup import freeze_startup_objects
    from filemeta_gui.ui.main_window import MainWindow
    from filemeta_gui.ui.models import file_columns
    from filemeta_gui.ui.models.file_columns import NAME, SIZE
    from filemeta_gui.ui.stall_meter import StallMeter

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    prepare_application(app)
    out: dict[str, Any] = {}
    started = time.perf_counter()
    services = await Services.open(url)
    out["open library"] = time.perf_counter() - started
    out["backend"] = await backend_figures(services)

    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    table, model = window.ui.table, window.model
    probe, grid_probe = PaintProbe(table), PaintProbe(window.ui.grid)
    ChangeProbe(model)
    meter = StallMeter(5, trace_over_ms=float(os.environ.get("BENCH_TRACE_MS", "0")) or None)
    meter.start()

    started = time.perf_counter()
    attach = asyncio.ensure_future(window.attach(services))
    out["first paint"] = await shown(window, table, probe, started)
    out["count shown"] = await until(lambda: model.total == model.rowCount() > 200) - started
    out["anchors ready"] = await until(lambda: model.planner.anchors is not None) - started
    await attach
    freeze_startup_objects()  # as the app does once the library is shown
    await window.tasks.join()
    out["rows"] = model.rowCount()
    browsing = StallMeter(5)
    browsing.start()

    started = time.perf_counter()
    table.scrollToBottom()
    out["scroll to end"] = await shown(window, table, probe, started)
    started = time.perf_counter()
    table.scrollTo(model.index(500_000, NAME), QAbstractItemView.ScrollHint.PositionAtTop)
    out["jump to row 500,000"] = await shown(window, table, probe, started)

    table.scrollToTop()
    await shown(window, table, probe, time.perf_counter())
    queries = model.loader.block_queries
    bar = table.verticalScrollBar()
    started = time.perf_counter()
    for step in range(1, drag_steps + 1):
        bar.setValue(bar.maximum() * step // drag_steps)
        await asyncio.sleep(1 / 60)
    out["drag to end"] = await shown(window, table, probe, started)
    out["drag blocks"] = model.loader.block_queries - queries
    out["drag steps"] = drag_steps

    started = time.perf_counter()
    table.sortByColumn(SIZE, Qt.SortOrder.DescendingOrder)
    out["re-sort (size desc)"] = await shown(window, table, probe, started)
    out["re-sort complete"] = await until(lambda: model.planner.anchors is not None) - started
    await window.tasks.join()
    started = time.perf_counter()
    table.scrollToBottom()
    out["re-sorted scroll to end"] = await shown(window, table, probe, started)

    out["filters"] = filters
    column, descending = filter_order
    if (column, descending) != ("size", True):
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        table.sortByColumn(getattr(file_columns, column.upper()), order)
        await shown(window, table, probe, time.perf_counter())
        await window.tasks.join()
    out["filter order"] = f"{column}, {'descending' if descending else 'ascending'}"
    for term in filters:
        started = time.perf_counter()
        window.run_query(term)
        out[f"filter '{term}'"] = await shown(window, table, probe, started)
        await window.tasks.join()
        out[f"filter '{term}' complete"] = time.perf_counter() - started
        out[f"filter '{term}' rows"] = model.rowCount()
        started = time.perf_counter()
        window.run_query("")
        out["clear filter"] = await shown(window, table, probe, started)
        await window.tasks.join()
        out["clear filter complete"] = time.perf_counter() - started

    if not with_grid:
        return await finish(window, (meter, browsing), out)
    window.set_view("grid")
    grid = window.ui.grid
    await shown(window, grid, grid_probe, time.perf_counter())
    started = time.perf_counter()
    grid.scrollToBottom()
    out["grid scroll to end"] = await shown(window, grid, grid_probe, started)
    await window.tasks.join()
    window.set_view("table")
    return await finish(window, (meter, browsing), out)


async def finish(window: Any, meters: tuple[Any, Any], out: dict[str, Any]) -> dict[str, Any]:
    model = window.model
    for meter in meters:
        meter.stop()
    for stack in meters[0].traces:
        print(f"--- GUI thread blocked here:\n{stack}", flush=True)
    out["longest stall"] = meters[0].max_stall_ms
    out["longest browsing stall"] = meters[1].max_stall_ms
    out["stall p99"] = meters[1].percentile(0.99)
    out["rss"], out["peak rss"] = rss_mb()
    out["blocks held"] = len(model.cache)
    out["block queries"] = model.loader.block_queries
    await window.shutdown()
    window.close()
    return out


def report(url: str, out: dict[str, Any]) -> None:
    import filemeta_gui  # from --src, if given

    backend = out.pop("backend")
    print(f"code: {Path(filemeta_gui.__file__).parents[1]}")
    print(f"library: {url}  ({out['rows']:,} rows)")
    print(f"  open library (services):      {out.pop('open library') * 1000:8.0f} ms")
    print(f"  first block (service):        {backend['first page'] * 1000:8.0f} ms")
    print(f"  count (service):              {backend['count'] * 1000:8.0f} ms")
    for key in [k for k in backend if k.startswith("anchors ")]:
        name = f"{key} ({backend['anchors']:,})"
        print(f"  {name + ':':<30}{backend[key] * 1000:8.0f} ms")
    print(f"  page at depth 700k by OFFSET: {backend['offset 700k'] * 1000:8.0f} ms  (not used)")
    timed = [
        "first paint",
        "count shown",
        "anchors ready",
        "scroll to end",
        "jump to row 500,000",
        "drag to end",
        "re-sort (size desc)",
        "re-sort complete",
        "re-sorted scroll to end",
        *(
            key
            for term in out["filters"]
            for key in (f"filter '{term}'", f"filter '{term}' complete")
        ),
        "clear filter",
        "clear filter complete",
        *(["grid scroll to end"] if "grid scroll to end" in out else []),
    ]
    print("GUI (each from the action to the paint showing its rows):")
    for key in timed:
        print(f"  {key + ':':<30}{out[key] * 1000:8.0f} ms")
    print(f"  drag: {out['drag steps']} scrollbar steps fetched {out['drag blocks']} blocks")
    print(f"  filters typed in order:       {out['filter order']}")
    for term in out["filters"]:
        print(f"  {f'filter {term!r} matches:':<30}{out[f'filter {term!r} rows']:>8,}")
    stalls = f"{out['longest browsing stall']:8.0f} ms / {out['stall p99']:.0f} ms"
    print(f"  GUI stall, browsing: max/p99  {stalls}")
    print(f"  GUI stall, with start-up:     {out['longest stall']:8.0f} ms")
    print(f"  blocks held / fetched:        {out['blocks held']:>8} / {out['block queries']}")
    verdict = "OK" if out["rss"] <= RSS_TARGET_MB else "OVER TARGET"
    print(
        f"  resident memory:              {out['rss']:8.0f} MB (peak {out['peak rss']:.0f} MB)"
        f"  [{verdict}, target <= {RSS_TARGET_MB} MB]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"library URL (default {DEFAULT_DB})")
    parser.add_argument("--drag-steps", type=int, default=40)
    parser.add_argument("--no-grid", action="store_true", help="skip the thumbnail grid")
    parser.add_argument(
        "--filter", action="append", metavar="QUERY", help=f"default: {', '.join(FILTER_TERMS)}"
    )
    parser.add_argument(
        "--filter-order",
        default="size",
        choices=["name", "folder", "size", "type", "modified", "indexed", "hash"],
        help="the column the list is sorted by while the filters are typed (default size)",
    )
    parser.add_argument(
        "--filter-ascending", action="store_true", help="smallest first (default: largest)"
    )
    parser.add_argument(
        "--src", type=Path, help="checkout whose code runs (an A/B against older code)"
    )
    args = parser.parse_args()
    if args.src is not None:  # filemeta_gui is imported inside measure(), from here on
        sys.path.insert(0, str(args.src.resolve()))
    with tempfile.TemporaryDirectory(prefix="filemeta-bench-") as scratch:
        os.environ["FILEMETA_DATA_DIR"] = str(Path(scratch) / "data")
        os.environ["FILEMETA_CACHE_DIR"] = str(Path(scratch) / "cache")
        app = QApplication.instance() or QApplication([sys.argv[0]])
        app.setQuitOnLastWindowClosed(False)
        filters = tuple(args.filter or FILTER_TERMS)
        order = (args.filter_order, not args.filter_ascending)
        out = qasync.run(measure(args.db, args.drag_steps, not args.no_grid, filters, order))
    report(args.db, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
