"""Helpers for the indexer tests: real folders on disk, real databases, no mocks."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from filemeta_gui.db.engine import Database
from filemeta_gui.db.models import File
from filemeta_gui.domain.paths import from_stored
from filemeta_gui.domain.scan import ScanOptions, ScanProgress
from filemeta_gui.repositories.index_writes import ensure_folder
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.scanner import FolderScanner

THREAD_PREFIXES = ("filemeta-walk", "filemeta-hash", "filemeta-thumb")


def worker_processes(worker: bytes) -> list[int]:
    """Pids of this process's children running ``worker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
        if parent == os.getpid() and worker in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    """Fail a test whose scan left a walker, hashing or thumbnail thread, or a hashing or
    walking process, running."""
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIXES)]
    assert not left, f"threads still running after the test: {left}"
    assert not worker_processes(b"hash_worker"), "hash_worker still running after the test"
    assert not worker_processes(b"walk_worker"), "walk_worker still running after the test"


@dataclass
class ScanRun:
    events: list[ScanProgress]

    @property
    def last(self) -> ScanProgress:
        return self.events[-1]


async def register(database: Database, root: Path | str, **kwargs: Any) -> uuid.UUID:
    async with database.session(write=True) as session:
        folder = await ensure_folder(session, str(root), **kwargs)
        return folder.id


async def run_scan(
    database: Database,
    folder_id: uuid.UUID,
    options: ScanOptions | None = None,
    hooks: ScanHooks | None = None,
    **kwargs: Any,
) -> ScanRun:
    scanner = FolderScanner(database, folder_id, options, hooks=hooks, **kwargs)
    events = [event async for event in scanner.progress()]
    return ScanRun(events)


async def scan_path(
    database: Database, root: Path, options: ScanOptions | None = None, **kwargs: Any
) -> ScanRun:
    return await run_scan(database, await register(database, root), options, **kwargs)


async def rows(database: Database, *, include_deleted: bool = True) -> dict[str, File]:
    """Every file row by its exact OS path."""
    async with database.session() as session:
        query = select(File)
        if not include_deleted:
            query = query.where(File.deleted_at.is_(None))
        found = (await session.scalars(query)).all()
    return {from_stored(row.file_path, row.raw_path): row for row in found}


def sha256(path: Path | str | bytes) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def write_raw(path: bytes, data: bytes) -> None:
    """Write a file whose name is given as bytes (names that are not UTF-8)."""
    with open(path, "wb") as handle:
        handle.write(data)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small folder: three files in two levels, two of them identical."""
    root = tmp_path / "tree"
    write(root / "a.txt", "alpha")
    write(root / "sub" / "b.txt", "bravo!")
    write(root / "sub" / "deeper" / "copy-of-a.txt", "alpha")
    return root


async def collect(iterator: AsyncIterator[ScanProgress]) -> list[ScanProgress]:
    return [event async for event in iterator]
