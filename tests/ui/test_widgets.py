"""The window's building blocks on their own: debounce, hints, tasks, stall meter."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from filemeta_gui.domain.records import FileRecord, FolderRecord, TagRecord
from filemeta_gui.ui.formatting import count_noun, human_duration, human_size, human_time
from filemeta_gui.ui.models.sidebar_model import (
    COUNT_ROLE,
    SidebarKind,
    SidebarModel,
    folder_query,
    tag_query,
)
from filemeta_gui.ui.stall_meter import StallMeter
from filemeta_gui.ui.tasks import TaskRegistry
from filemeta_gui.ui.widgets.detail_pane import DetailPane
from filemeta_gui.ui.widgets.search_bar import SearchBar
from filemeta_gui.ui.widgets.tag_editor import TagEditor


def test_search_bar_waits_for_a_pause_in_typing(qtbot: QtBot) -> None:
    bar = SearchBar(debounce_ms=100)
    qtbot.addWidget(bar)
    emitted: list[str] = []
    bar.query_changed.connect(emitted.append)

    qtbot.keyClicks(bar.edit, "holiday")
    assert emitted == [] and bar.pending
    qtbot.waitUntil(lambda: emitted == ["holiday"])
    assert not bar.pending

    qtbot.keyClicks(bar.edit, " 2024")
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)  # Return runs it at once
    assert emitted == ["holiday", "holiday 2024"]


def test_search_bar_hint_points_at_the_problem(qtbot: QtBot) -> None:
    bar = SearchBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.set_text("size:>lots", emit=False)
    bar.show_error("Unknown size “lots”.", 6)
    assert bar.hint.isVisible()
    assert "<u>l</u>" in bar.hint.text()
    bar.clear_error()
    assert not bar.hint.isVisible()


def test_tag_editor_adds_typed_names_and_removes_chips(qtbot: QtBot) -> None:
    editor = TagEditor()
    qtbot.addWidget(editor)
    editor.set_known_tags(["holiday", "work"])
    editor.set_tags(["work"])
    added: list[str] = []
    removed: list[str] = []
    editor.tag_added.connect(added.append)
    editor.tag_removed.connect(removed.append)

    qtbot.keyClicks(editor.edit, "  new   tag ")
    qtbot.keyClick(editor.edit, Qt.Key.Key_Return)
    assert added == ["new tag"]
    qtbot.waitUntil(lambda: editor.edit.text() == "")

    chip = editor._flow.itemAt(0).widget()
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert removed == ["work"]


def test_task_registry_cancels_by_key_and_reports_errors(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    errors: list[BaseException] = []
    tasks = TaskRegistry(on_error=errors.append)
    gate = asyncio.Event()

    async def wait_forever() -> None:
        await gate.wait()

    async def fail() -> None:
        raise ValueError("boom")

    first = tasks.start(wait_forever(), key="search")
    second = tasks.start(wait_forever(), key="search")
    qtbot.waitUntil(first.done)
    assert first.cancelled() and not second.done()
    assert tasks.running("search") and len(tasks) == 1

    tasks.start(fail())
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert str(errors[0]) == "boom"

    closing = qasync_loop.create_task(tasks.cancel_all())
    qtbot.waitUntil(closing.done)
    assert second.cancelled() and tasks.idle and len(tasks) == 0


def test_stall_meter_sees_a_blocked_event_loop(qtbot: QtBot) -> None:
    meter = StallMeter(interval_ms=5)
    meter.start()
    qtbot.waitUntil(lambda: len(meter.samples) >= 3)

    def block_gui_thread() -> None:  # a slot that hogs the GUI thread for 80 ms
        end = time.perf_counter() + 0.08
        while time.perf_counter() < end:
            pass

    QTimer.singleShot(0, block_gui_thread)
    count = len(meter.samples)
    qtbot.waitUntil(lambda: len(meter.samples) >= count + 3)
    meter.stop()
    assert 60 <= meter.max_stall_ms < 1000
    assert meter.stalls_over(50) >= 1
    assert meter.percentile(0.5) < 50


def test_stall_meter_traces_say_where_the_gui_thread_was(qtbot: QtBot) -> None:
    meter = StallMeter(interval_ms=5, trace_over_ms=40)
    meter.start()
    qtbot.waitUntil(lambda: len(meter.samples) >= 3)

    def sleeping_slot() -> None:  # waiting in C (the lock released): sampled throughout
        time.sleep(0.1)

    QTimer.singleShot(0, sleeping_slot)
    count = len(meter.samples)
    qtbot.waitUntil(lambda: len(meter.samples) >= count + 3)
    qtbot.wait(20)  # the watchdog notices the stall ended at its next look
    meter.stop()
    assert len(meter.traces) == 1, meter.traces
    summary = meter.traces[0]
    assert summary.startswith("stall of ")
    assert "sleeping_slot (test_widgets.py:" in summary


def test_sidebar_lists_folders_and_nested_tags_with_counts() -> None:
    now = datetime.now(UTC)
    parent = TagRecord(uuid.uuid4(), "travel", file_count=5)
    child = TagRecord(uuid.uuid4(), "beach", parent_id=parent.id, file_count=2)
    folder = FolderRecord(uuid.uuid4(), "/home/ann/Photos", "/home/ann/Photos", now, file_count=42)
    model = SidebarModel()
    model.populate([folder], [child, parent], [], total_files=42)

    folder_index = model.find(SidebarKind.FOLDER, folder.id)
    assert folder_index.data() == "Photos" and folder_index.data(COUNT_ROLE) == 42
    assert model.find_tag("beach").parent() == model.find_tag("travel")
    assert model.tag_count("travel") == 5
    assert model.find(SidebarKind.ALL).data(COUNT_ROLE) == 42


def test_sidebar_queries_quote_what_needs_quoting() -> None:
    from filemeta_gui.domain.query import PathFilter, TagFilter, parse

    assert tag_query("holiday") == "tag:holiday"
    assert parse(tag_query('my "best" (2024)')) == TagFilter('my "best" (2024)')
    assert parse(folder_query("/home/ann/My Photos/")) == PathFilter("/home/ann/My Photos/*")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1,023 bytes"),
        (1536, "1.5 KB"),
        (5 * 1024**3, "5.0 GB"),
        (123 * 1024**2, "123 MB"),
    ],
)
def test_human_sizes(size: int, text: str) -> None:
    assert human_size(size) == text


def test_human_times_and_durations() -> None:
    now = datetime.now().astimezone()
    assert human_time(now, now).startswith("Today ")
    assert human_time(now - timedelta(days=1), now).startswith("Yesterday ")
    assert human_time(datetime(2023, 3, 12, 14, 3, tzinfo=UTC), now).endswith(
        "2023 " + datetime(2023, 3, 12, 14, 3, tzinfo=UTC).astimezone().strftime("%H:%M")
    )
    assert human_duration(75) == "1 min 15 s"
    assert human_duration(None) == ""
    assert count_noun(1, "file") == "1 file" and count_noun(1200, "file") == "1,200 files"


def test_detail_pane_names_owners_it_knows_and_marks_the_others(qtbot: QtBot) -> None:
    pane = DetailPane()
    qtbot.addWidget(pane)
    me, colleague, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pane.owner_names = {me: "You", colleague: "ana@studio"}

    def owner_shown(owner_id: uuid.UUID | None) -> str:
        record = FileRecord(
            id=uuid.uuid4(), filename="a.txt", file_path="/d/a.txt", os_path="/d/a.txt",
            file_size=1, content_type="text/plain", upload_time=datetime.now(UTC), mtime_ns=0,
            owner_id=owner_id,
        )  # fmt: skip
        pane.show_records([record])
        return pane.values["Owner"].text()

    assert owner_shown(me) == "You"
    assert owner_shown(colleague) == "ana@studio"
    assert owner_shown(stranger) == f"Another user ({str(stranger)[:8]}…)"
    assert owner_shown(None) == "No owner"
