"""The walk in its worker process against the walk in threads, and how a worker ends."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from filemeta_gui.db.engine import Database
from filemeta_gui.domain.scan import ScanError, ScanOptions
from filemeta_gui.services.indexer import walk_worker
from filemeta_gui.services.indexer.content_type import told_by_bytes
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import FolderScanner
from filemeta_gui.services.indexer.walker import (
    ProcessWalk,
    ThreadedWalk,
    Walk,
    WalkSettings,
    walk_for,
)
from tests.services.indexer.conftest import (
    register,
    rows,
    scan_path,
    worker_processes,
    write,
    write_raw,
)


def _awkward_tree(tmp_path: Path) -> Path:
    """Every kind of entry a walk must tell apart."""
    root = tmp_path / "awkward"
    for number in range(30):
        write(root / f"d{number % 4}" / f"file-{number}.txt", "x" * number)
    write(root / "skipped.tmp", "excluded by a glob")
    write(root / "d1" / "picture", b"\x89PNG\r\n\x1a\n" + bytes(24))  # told by its bytes
    write(root / "d1" / "notes.zzq", "an extension nobody knows, bytes that say nothing")
    write(root / "nested" / "inside.txt", "another folder's")
    write_raw(bytes(root / "d0") + b"/caf\xe9.txt", b"latin-1 name")
    os.mkfifo(root / "pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "d1" / "sock"))
    (root / "broken").symlink_to(root / "nowhere")
    (root / "d2" / "loop").symlink_to(root)
    (root / "d3" / "to-file").symlink_to(root / "d0" / "file-0.txt")
    (root / "knot").symlink_to(root / "knot")
    return root


async def _listed(walk: Walk) -> tuple[list[tuple[Any, ...]], list[Any], list[Any], int, int]:
    try:
        entries = [tuple(entry) async for batch in walk.batches() for entry in batch]
    finally:
        await walk.close()
    report = walk.report
    issues = sorted((issue.path, issue.reason) for issue in report.take_issues())
    return sorted(entries), issues, sorted(report.failed), report.skipped, report.folders


@pytest.mark.parametrize(("follow", "sniff"), [(False, False), (True, False), (False, True)])
async def test_the_worker_process_lists_what_the_threads_list(
    tmp_path: Path, follow: bool, sniff: bool
) -> None:
    root = _awkward_tree(tmp_path)
    settings = WalkSettings(
        root=str(root),
        follow_symlinks=follow,
        excludes=("*.tmp",),
        skip_dirs=frozenset({str(root / "nested")}),
        batch_size=7,
        sniff=sniff,
    )
    in_threads = await _listed(ThreadedWalk(settings))
    in_process = await _listed(ProcessWalk(settings))
    assert in_process == in_threads
    entries, issues, failed, skipped, folders = in_process
    names = {entry[1] for entry in entries}
    assert "caf\udce9.txt" in names  # the undecodable byte kept as a surrogate
    assert "skipped.tmp" not in names and "inside.txt" not in names
    assert ("to-file" in names) is follow
    assert folders == 5 and not failed
    assert skipped >= 4  # the glob, the nested folder, the FIFO, the socket
    reasons = " ".join(reason for _, reason in issues)
    assert ("loop" in reasons) is follow
    told = {entry[1]: entry[6] for entry in entries}
    if sniff:
        assert told["picture"] == "image/png"
        assert told["notes.zzq"] == ""  # looked, and the bytes said nothing
        assert told["file-1.txt"] is None  # the extension says it: never opened
    else:
        assert set(told.values()) == {None}


async def test_a_folder_the_os_refuses_is_reported_by_the_worker_too(tmp_path: Path) -> None:
    """Running as root, a mode cannot refuse us: a file where a folder was is refused."""
    root = tmp_path / "root"
    write(root / "kept.txt", "x")
    walk = ProcessWalk(WalkSettings(root=str(root / "kept.txt")))
    entries, issues, failed, _, _ = await _listed(walk)
    assert entries == []
    assert failed == [(str(root / "kept.txt"), True)]
    assert issues and "cannot list this folder" in issues[0][1]


def test_walks_run_in_a_process_unless_a_test_hooks_the_listing(tmp_path: Path) -> None:
    settings = WalkSettings(root=str(tmp_path))
    assert isinstance(walk_for(settings), ProcessWalk)
    assert isinstance(walk_for(settings, ScanHooks()), ProcessWalk)
    assert isinstance(walk_for(settings, ScanHooks(before_listing=print)), ThreadedWalk)
    threads = WalkSettings(root=str(tmp_path), threads=2)
    assert isinstance(walk_for(threads), ThreadedWalk)


def test_a_failing_worker_says_why() -> None:
    """A bug in the worker reaches the scan as an error with its traceback."""
    out = io.BytesIO()
    bad = io.BytesIO(walk_worker.marshal.dumps(("/", False, (), (), "not a number", False)))
    walk_worker.serve(bad, out, told_by_bytes)
    kind, _ = walk_worker.HEADER.unpack(out.getvalue()[: walk_worker.HEADER.size])
    assert kind == walk_worker.FAILED
    walk = ProcessWalk(WalkSettings(root="/"))
    with pytest.raises(ScanError, match=r"(?s)folder walk failed.*TypeError"):
        walk._relay(io.BytesIO(out.getvalue()))


async def test_a_killed_walk_stops_the_scan_and_keeps_the_library(
    database: Database, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    for number in range(20):
        write(root / f"old-{number}.txt", f"old {number}")
    await scan_path(database, root)
    for number in range(3_000):
        write(root / "new" / f"new-{number}.txt", "n")
    folder_id: uuid.UUID = await register(database, root)
    scanner: FolderScanner | None = None

    async def kill_the_walk(_session: AsyncSession, writes: int) -> None:
        assert scanner is not None and isinstance(scanner._walk, ProcessWalk)
        process = scanner._walk._process
        if writes == 1 and process is not None:
            process.kill()

    options = ScanOptions(hash_files=False, batch_size=5)
    scanner = FolderScanner(database, folder_id, options, hooks=ScanHooks(in_write=kill_the_walk))
    with pytest.raises(ScanError, match="walk stopped unexpectedly"):
        async for _ in scanner.progress():
            pass
    live = await rows(database, include_deleted=False)
    assert all(str(root / f"old-{number}.txt") in live for number in range(20))
    assert 20 < len(live) < 3_020  # what was written before the walk died stays
    assert not worker_processes(b"walk_worker")


def test_the_worker_decodes_names_as_the_scan_does(tmp_path: Path) -> None:
    """A scan in an ASCII locale with UTF-8 mode off (PYTHONUTF8=0, which ``-I`` would
    drop) must get the worker's names in its own decoding, or every known path differs."""
    root = tmp_path / "names"
    write(root / "café.txt", "x")
    script = (
        "import asyncio, sys\n"
        "from filemeta_gui.services.indexer.walker import ProcessWalk, WalkSettings\n"
        "async def main():\n"
        "    walk = ProcessWalk(WalkSettings(root=sys.argv[1]))\n"
        "    names = [e.name async for batch in walk.batches() for e in batch]\n"
        "    await walk.close()\n"
        "    print(ascii(names))\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    shown = subprocess.run(
        [sys.executable, "-c", script, str(root)], env=env, capture_output=True, check=True
    ).stdout.decode()
    assert shown.strip() == ascii(["caf\udcc3\udca9.txt"])  # ASCII decoding, as the scan's


async def test_a_walk_that_cannot_start_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    walk = ProcessWalk(WalkSettings(root=str(tmp_path)))
    with pytest.raises(ScanError, match="could not start: no such file or directory"):
        await _listed(walk)
