"""Sorting one batch of walked entries against what the library knows.

For each entry: unknown path → new row (or, when a known file of that size or inode could
have vanished, a *move candidate* decided after the walk); known and deleted → restored;
known with the same size and ``mtime_ns`` → unchanged (not read again); otherwise changed.

The planner runs in a worker thread, one batch at a time, while the event loop writes the
previous batch; it returns everything it found in a ``BatchPlan``. Rows for new files are
encoded for the driver here, off the event loop.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from filemeta_gui.domain.paths import display, to_stored
from filemeta_gui.domain.scan import ScanIssue, ScanOptions
from filemeta_gui.repositories.index_writes import KnownRow, RowCodec, signed64
from filemeta_gui.services.indexer.content_type import content_type_for, split_extension
from filemeta_gui.services.indexer.hashing import HashJob
from filemeta_gui.services.indexer.thumbnails import IMAGE_TYPES, ThumbnailJob
from filemeta_gui.services.indexer.walker import DiskEntry

_SIZE = operator.itemgetter(2)  # DiskEntry.size, read in C for a whole batch
_DELETED = operator.itemgetter(KnownRow._fields.index("deleted"))
MAX_FILENAME = 255  # files.filename is VARCHAR(255)
# PostgreSQL refuses B-tree index entries over ~2.7 kB, and file_path is a unique key.
# Longer paths are reported on both backends so a library behaves the same on either.
MAX_INDEXED_PATH_BYTES = 2_600


class NewFile(NamedTuple):
    """A file met for the first time, described for the database."""

    entry: DiskEntry
    stored: tuple[str, bytes | None]
    filename: str
    extension: str
    content_type: str


@dataclass(slots=True)
class BatchPlan:
    entries: int = 0
    bytes: int = 0
    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    changed: list[tuple[Any, ...]] = field(default_factory=list)
    restored: list[Any] = field(default_factory=list)
    """Ids of deleted rows back with the same size and mtime (changed ones are in changed)."""
    restored_count: int = 0
    unchanged: int = 0
    hash_jobs: list[HashJob] = field(default_factory=list)
    """New, changed and never-hashed files, to hash after the walk."""
    thumbnail_keys: list[Any] = field(default_factory=list)
    """Ids among ``hash_jobs`` that are images and want a thumbnail once hashed."""
    thumbnail_jobs: list[ThumbnailJob] = field(default_factory=list)
    """Unchanged images that are hashed but have no thumbnail yet."""
    candidates: list[NewFile] = field(default_factory=list)
    seen_known: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    """The size of every entry: the scan counts them all (``Counter.update`` of a list
    counts in C; counting each batch first and merging those took twice as long)."""
    issues: list[ScanIssue] = field(default_factory=list)


def describe_new(entry: DiskEntry) -> NewFile | ScanIssue:
    stored = to_stored(entry.path)
    text = stored[0]
    if len(text) * 4 > MAX_INDEXED_PATH_BYTES and len(text.encode()) > MAX_INDEXED_PATH_BYTES:
        return ScanIssue(text, f"path longer than {MAX_INDEXED_PATH_BYTES} bytes: not indexed")
    # A clean path has a clean name; only undecodable names need the \xHH form.
    filename = entry.name if stored[1] is None else display(entry.name)
    extension = split_extension(filename)
    content_type = content_type_for(entry.path, extension, entry.told_type)
    return NewFile(entry, stored, filename[:MAX_FILENAME], extension, content_type)


class Planner:
    """Classifies walk batches; ``plan`` is the walker's transform (runs in its threads)."""

    def __init__(
        self, known: dict[str, KnownRow], codec: RowCodec, options: ScanOptions, upload_time: Any
    ) -> None:
        self.known = known
        self.codec = codec
        self.options = options
        self.upload_time = upload_time
        self.thumbnails = options.thumbnails and options.hash_files
        # Rows that are not deleted, counted in C: a Python loop over 100k rows is ~50 ms.
        self.live_rows = len(known) - sum(map(_DELETED, known.values()))

    @cached_property
    def _move_keys(self) -> tuple[set[int], set[tuple[int, int]]]:
        """Sizes and (device, inode) pairs of every known row: a new file matching one may
        be a known file that moved. Built when the first unknown file turns up; an
        unchanged rescan never pays for it (0.15 s at 100k rows)."""
        sizes: set[int] = set()
        inodes: set[tuple[int, int]] = set()
        for row in self.known.values():
            if row.size > 0:  # every empty file looks like every other: never a move
                sizes.add(row.size)
            if row.inode is not None and row.device is not None:
                inodes.add((row.device, row.inode))
        return sizes, inodes

    def plan(self, batch: list[DiskEntry]) -> BatchPlan:
        plan = BatchPlan(entries=len(batch))
        sizes = list(map(_SIZE, batch))
        plan.sizes, plan.bytes = sizes, sum(sizes)
        known_get, seen = self.known.get, plan.seen_known
        hashing, thumbnails = self.options.hash_files, self.thumbnails
        new: list[NewFile] = []
        for entry in batch:
            row = known_get(entry.path)
            if row is None:
                self._unknown(entry, plan, new)
                continue
            seen.append(entry.path)
            # The common case of a rescan, inline: same size and mtime, nothing owed.
            if (
                entry.size == row.size
                and entry.mtime_ns == row.mtime_ns
                and not row.deleted
                and (row.hash_value is not None or not hashing)
                and (row.has_thumbnail or not thumbnails or row.content_type not in IMAGE_TYPES)
            ):
                plan.unchanged += 1
            else:
                self._known(entry, row, plan)
        for row_id, described in zip(self.codec.new_ids(len(new)), new, strict=True):
            plan.inserts.append(self.insert_row(row_id, described))
            self._to_hash(row_id, described.entry, described.content_type, plan)
        return plan

    def _unknown(self, entry: DiskEntry, plan: BatchPlan, new: list[NewFile]) -> None:
        described = describe_new(entry)
        if isinstance(described, ScanIssue):
            plan.issues.append(described)
        elif self._may_be_moved(entry):
            plan.candidates.append(described)
        else:
            new.append(described)

    def insert_row(self, row_id: Any, new: NewFile) -> tuple[Any, ...]:
        entry = new.entry
        return self.codec.insert_row(
            row_id,
            new.stored,
            (new.filename, new.extension, new.content_type),
            (entry.size, entry.mtime_ns, entry.inode, entry.device),
            self.upload_time,
        )

    def _may_be_moved(self, entry: DiskEntry) -> bool:
        sizes, inodes = self._move_keys
        if entry.size > 0 and entry.size in sizes:
            return True
        return (signed64(entry.device), signed64(entry.inode)) in inodes

    def _known(self, entry: DiskEntry, row: KnownRow, plan: BatchPlan) -> None:
        if entry.size == row.size and entry.mtime_ns == row.mtime_ns:
            if row.deleted:
                plan.restored.append(row.id)
                plan.restored_count += 1
            else:
                plan.unchanged += 1
            if row.hash_value is None:
                self._to_hash(row.id, entry, row.content_type, plan)
            elif self.wants_thumbnail(row.content_type) and not row.has_thumbnail:
                plan.thumbnail_jobs.append(ThumbnailJob(row.id, entry.path, row.hash_value))
            return
        content_type = row.content_type
        if content_type == "application/octet-stream" or not content_type:
            content_type = content_type_for(entry.path, split_extension(display(entry.name)))
        inode, device = signed64(entry.inode), signed64(entry.device)
        plan.changed.append((row.id, entry.size, entry.mtime_ns, content_type, inode, device))
        plan.restored_count += row.deleted
        self._to_hash(row.id, entry, content_type, plan)

    def _to_hash(self, row_id: Any, entry: DiskEntry, content_type: str, plan: BatchPlan) -> None:
        if not self.options.hash_files:
            return
        plan.hash_jobs.append(HashJob(row_id, entry.path, entry.size, entry.mtime_ns))
        if self.wants_thumbnail(content_type):
            plan.thumbnail_keys.append(row_id)

    def wants_thumbnail(self, content_type: str) -> bool:
        return self.thumbnails and content_type in IMAGE_TYPES
