"""``filemeta watch``: one line per change, in a real process, surviving a server restart."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import pytest

from filemeta_gui.cli.watch_command import event_line
from filemeta_gui.db.engine import Database
from filemeta_gui.domain.changes import ChangeEvent, ChangeKind, ChangeOp
from filemeta_gui.services.tags import TagService
from tests.support.live import WAIT_S, add_file, admin_policy, terminate_backends

CLI = "from filemeta_gui.cli import main; raise SystemExit(main())"
# A fresh interpreter importing the app and opening the library: allow for a slow box.
START_S = 60.0


def test_plain_lines_name_kind_ids_and_who() -> None:
    one = uuid.uuid4()
    line = event_line(ChangeEvent(ChangeKind.FILE_TAGS, ChangeOp.INSERT, (one,), 1, who="ann"))
    assert line == f"file_tags INSERT {one} by ann"
    many = ChangeEvent(ChangeKind.FILES, ChangeOp.UPDATE, (), 5000, many=True, who="bob")
    assert event_line(many) == "files UPDATE 5000 rows by bob"


class _Watcher:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def stderr_until(self, text: str, within: float = WAIT_S) -> str:
        assert self.process.stderr is not None
        seen = []
        async with asyncio.timeout(within):
            while True:
                line = (await self.process.stderr.readline()).decode()
                seen.append(line)
                if text in line:
                    return line
                if not line:
                    raise AssertionError(f"watch ended before {text!r}: {''.join(seen)}")

    async def change(self) -> dict[str, object]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WAIT_S)
        assert line, "watch closed its output"
        return dict(json.loads(line))


async def _start(db_url: str, count: int) -> _Watcher:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLI,
        "--db",
        db_url,
        "watch",
        "--json",
        "--count",
        str(count),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    watcher = _Watcher(process)
    await watcher.stderr_until("watching", within=START_S)
    return watcher


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_watch_prints_changes_and_survives_a_restart(database: Database, db_url: str) -> None:
    first, second = await add_file(database, "/w/a.txt"), await add_file(database, "/w/b.txt")
    tags = TagService(database, await admin_policy(database))
    watcher = await _start(db_url, count=3)
    try:
        await tags.attach(["one"], [first])
        created, linked = await watcher.change(), await watcher.change()
        assert (created["kind"], created["op"], created["count"]) == ("tags", "INSERT", 1)
        assert linked == {
            "kind": "file_tags",
            "op": "INSERT",
            "ids": [str(first)],
            "count": 1,
            "many": False,
            "who": "postgres",
        }
        await terminate_backends(db_url)
        await watcher.stderr_until("reconnecting")
        await watcher.stderr_until("connected again")
        await tags.attach(["one"], [second])  # the tag exists: only the link is new
        again = await watcher.change()
        assert (again["kind"], again["ids"]) == ("file_tags", [str(second)])
        # --count 3 reached: the command ends by itself, successfully.
        assert await asyncio.wait_for(watcher.process.wait(), WAIT_S) == 0
    finally:
        if watcher.process.returncode is None:
            watcher.process.kill()
            await watcher.process.wait()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_watch_on_sqlite_reports_that_the_library_changed(
    database: Database, db_url: str
) -> None:
    file_id = await add_file(database, "/w/a.txt")
    watcher = await _start(db_url, count=1)
    try:
        await TagService(database, await admin_policy(database)).attach(["x"], [file_id])
        assert (await watcher.change())["kind"] == "library"
        assert await asyncio.wait_for(watcher.process.wait(), WAIT_S) == 0
    finally:
        if watcher.process.returncode is None:
            watcher.process.kill()
            await watcher.process.wait()
