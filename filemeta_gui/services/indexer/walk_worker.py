"""Listing folders, and a worker process that walks a whole tree and sends what it found.

Standard library only, and nothing imported from the package: like ``hash_worker``, the
process is started as ``python -I -S walk_worker.py`` and is up in a few tens of
milliseconds. The listing itself (``DirectoryLister``) is the same code in the worker and
in the scan's own walker threads (``walker.ThreadedWalk``).

Why a process: a walk is a system call per file plus a little Python, and everything
else a scan does at the same time (loading the known rows, planning, SQLite stepping
through rows) wants the same GIL. In threads, the walk and the rest took turns; in its own
process the walk runs beside them on the other core.

Rules: symlinks are not followed unless asked; when they are, every folder visited is
remembered by ``(device, inode)`` so a loop (or a second route to the same folder) is
reported once and never entered. FIFOs, sockets and devices are recognised from the
directory entry (``d_type``/``lstat``) and never opened. Names are ``str`` with
undecodable bytes kept as surrogates (``os.fsdecode``), so nothing is lost.

Protocol (binary, little-endian): the request on stdin is one ``marshal``-ed tuple
``(root, follow_symlinks, excludes, skip_dirs, batch_size, sniff)``. Replies on stdout are
frames of a kind byte, a u32 length and a ``marshal``-ed body:

* ``b"B"``: a batch, a list of ``DiskEntry`` fields as plain tuples;
* ``b"D"``: the walk is over: ``(issues, failed, skipped, folders)`` as in
  ``ListingReport``;
* ``b"X"``: the worker failed (a bug): the traceback's text.

``marshal`` keeps the surrogates of undecodable names, and reading a batch back is one C
call: a scan's process spends ~30 ms on the 100k entries of a walk.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import marshal
import os
import re
import stat
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple, cast

BATCH, DONE, FAILED = b"B", b"D", b"X"
DEFAULT_THREADS = 1
"""Walker threads when the walk runs in threads: two took longer than one (100k files:
0.6 s alone, several seconds beside the scan's other work)."""
HEADER = struct.Struct("<cI")


class DiskEntry(NamedTuple):
    path: str
    name: str
    size: int
    mtime_ns: int
    inode: int
    device: int
    told_type: str | None
    """What the file's first bytes say ("" when nothing), when the walk was asked to look
    (``WalkSettings.sniff``) and the extension did not say; None otherwise."""


@dataclass(frozen=True, slots=True)
class WalkSettings:
    root: str
    follow_symlinks: bool = False
    excludes: tuple[str, ...] = ()
    skip_dirs: frozenset[str] = frozenset()
    """Folders not to enter (other indexed folders nested inside this one)."""
    threads: int = DEFAULT_THREADS
    batch_size: int = 5_000
    sniff: bool = False
    """Read the first bytes of files whose extension says nothing (``told_type``): on a
    first scan every file is new and needs its type, and the walk runs beside the scan."""

    def request(self) -> bytes:
        """These settings as the worker process reads them (``threads`` is the scan's)."""
        fields = (
            self.root, self.follow_symlinks, tuple(self.excludes), tuple(self.skip_dirs),
            self.batch_size, self.sniff,
        )  # fmt: skip
        return marshal.dumps(fields)


@dataclass(slots=True)
class ListingReport:
    """What the walk left out, as the OS said it: raw paths and reasons."""

    raw_issues: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, bool]] = field(default_factory=list)
    """Folders that could not be listed: ``(os path, gone)``; gone when it no longer exists."""
    skipped: int = 0
    folders: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, path: str, reason: str) -> None:
        with self.lock:
            self.raw_issues.append((path, reason))

    def skip(self) -> None:
        with self.lock:
            self.skipped += 1


class ExcludeMatcher:
    """Glob patterns matched against a name and against the path relative to the root."""

    def __init__(self, root: str, globs: Sequence[str]) -> None:
        self.prefix = len(root.rstrip("/")) + 1
        patterns = [fnmatch.translate(glob.rstrip("/")) for glob in globs if glob.strip()]
        self.regex = re.compile("|".join(patterns)) if patterns else None

    def __call__(self, path: str, name: str) -> bool:
        if self.regex is None:
            return False
        return bool(self.regex.match(name) or self.regex.match(path[self.prefix :]))


def os_reason(error: OSError) -> str:
    if error.errno == errno.ENAMETOOLONG:
        return "the path is longer than the operating system allows"
    return (error.strerror or str(error)).lower()


class Batcher:
    """Collects one thread's entries and hands them on every ``size`` entries, so that a
    folder of a million files still arrives in batches."""

    def __init__(self, size: int, emit: Callable[[list[DiskEntry]], None]) -> None:
        self.size = size
        self.emit = emit
        self.entries: list[DiskEntry] = []

    def append(self, entry: DiskEntry) -> None:
        self.entries.append(entry)
        if len(self.entries) >= self.size:
            self.flush()

    def flush(self) -> None:
        """Hand the entries on; the list object itself stays (callers hold it)."""
        if self.entries:
            entries = list(self.entries)
            self.entries.clear()
            self.emit(entries)


class DirectoryLister:
    """Lists one folder: files become entries, folders are returned to be visited.

    ``before_listing`` (tests only, threads only) runs before each folder is opened; it
    may raise ``OSError`` to play the OS refusing. ``entry_type`` is what entries are
    made as: ``DiskEntry``, or plain tuples in the worker (``marshal`` takes no others).
    ``told_by_bytes`` is ``content_type.told_by_bytes``, used when ``settings.sniff``:
    the worker imports that module by itself, not through the package.
    """

    def __init__(
        self,
        settings: WalkSettings,
        report: ListingReport,
        before_listing: Callable[[str], None] | None = None,
        entry_type: type[DiskEntry] = DiskEntry,
        told_by_bytes: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.settings = settings
        self.report = report
        self.before_listing = before_listing
        self.entry_type = entry_type
        self.told_by_bytes = told_by_bytes if settings.sniff else None
        self.excluded = ExcludeMatcher(settings.root, settings.excludes)
        self.visited: set[tuple[int, int]] = set()
        self.visited_lock = threading.Lock()

    def list_folder(self, folder: str, out: Batcher) -> list[str]:
        if folder == self.settings.root and self.settings.follow_symlinks:
            self._first_visit(folder, None)  # so a link back to the root is a loop too
        subfolders: list[str] = []
        try:
            if self.before_listing is not None:
                self.before_listing(folder)
            with _listing(folder) as listing:
                prefix = folder if folder.endswith("/") else folder + "/"
                self._take_all(listing, prefix, out, subfolders)
        except OSError as error:
            self.report.issue(folder, f"cannot list this folder: {os_reason(error)}")
            gone = isinstance(error, FileNotFoundError | NotADirectoryError)
            with self.report.lock:
                self.report.failed.append((folder, gone))
        return subfolders

    def _take_all(
        self, listing: Iterator[os.DirEntry[str]], prefix: str, out: Batcher, folders: list[str]
    ) -> None:
        """The hot loop: regular files first and inline (a method call per file would cost
        as much as the ``lstat`` itself); everything rarer goes through ``_take_other``.
        Paths are ``prefix`` + name: entries listed through a descriptor have no path."""
        excluded = self.excluded if self.excluded.regex is not None else None
        entries, size, make, kind = out.entries, out.size, tuple.__new__, self.entry_type
        told_by_bytes = self.told_by_bytes
        for entry in listing:
            name = entry.name
            path = prefix + name
            if excluded is not None and excluded(path, name):
                self.report.skip()
            elif entry.is_file(follow_symlinks=False):
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as error:
                    self._stat_failed(path, error)
                    continue
                entries.append(
                    make(kind, (path, name, info.st_size, info.st_mtime_ns,
                                info.st_ino, info.st_dev,
                                None if told_by_bytes is None else told_by_bytes(path, name)))
                )  # fmt: skip
                if len(entries) >= size:
                    out.flush()
            else:
                self._take_other(entry, path, out, folders)

    def _stat_failed(self, path: str, error: OSError) -> None:
        if not isinstance(error, FileNotFoundError):  # deleted since listed: simply gone
            self.report.issue(path, os_reason(error))

    def _take_other(
        self, entry: os.DirEntry[str], path: str, out: Batcher, folders: list[str]
    ) -> None:
        if entry.is_dir(follow_symlinks=False):
            if path in self.settings.skip_dirs:
                self.report.skip()
            elif not self.settings.follow_symlinks or self._first_visit(path, None):
                folders.append(path)
        elif entry.is_symlink() and self.settings.follow_symlinks:
            self._follow(path, entry.name, out, folders)
        else:
            self.report.skip()  # FIFO, socket, device, or a symlink not followed

    def _follow(self, path: str, name: str, out: Batcher, folders: list[str]) -> None:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self.report.issue(path, "broken symbolic link: its target does not exist")
            return
        except OSError as error:
            reason = "symbolic link loop" if error.errno == errno.ELOOP else os_reason(error)
            self.report.issue(path, reason)
            return
        if stat.S_ISDIR(info.st_mode):
            if self._first_visit(path, info):
                folders.append(path)
        elif stat.S_ISREG(info.st_mode):
            told = None if self.told_by_bytes is None else self.told_by_bytes(path, name)
            entry = (path, name, info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev, told)
            out.append(tuple.__new__(self.entry_type, entry))  # through a followed link
        else:
            self.report.skip()

    def _first_visit(self, path: str, info: os.stat_result | None) -> bool:
        """Remember a folder by (device, inode); False (and an issue) when seen before."""
        try:
            info = info or os.stat(path, follow_symlinks=False)
        except OSError as error:
            self.report.issue(path, os_reason(error))
            return False
        key = (info.st_dev, info.st_ino)
        with self.visited_lock:
            if key not in self.visited:
                self.visited.add(key)
                return True
        self.report.issue(
            path, "symbolic link to a folder already being scanned (a loop): not entered"
        )
        return False


# Where the OS can list a folder through a descriptor, each entry's ``stat`` resolves one
# name relative to it instead of the whole path again (a bare walk of 100k files: 0.26 s
# against 0.30 s).
_BY_DESCRIPTOR = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")


@contextlib.contextmanager
def _listing(folder: str) -> Iterator[Iterator[os.DirEntry[str]]]:
    """The entries of ``folder`` (raises ``OSError`` as ``os.scandir`` would)."""
    if not _BY_DESCRIPTOR:
        with os.scandir(folder) as listing:
            yield listing
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with os.scandir(descriptor) as listing:
            yield listing
    finally:
        os.close(descriptor)


# --- the worker process ----------------------------------------------------------------------


def frame(kind: bytes, body: Any) -> bytes:
    data = marshal.dumps(body)
    return HEADER.pack(kind, len(data)) + data


def walk(
    settings: WalkSettings, out: BinaryIO, told_by_bytes: Callable[[str, str], str | None]
) -> None:
    """The whole tree, depth first as the threads go, one frame per batch, then the report.

    Entries are plain tuples here: ``marshal`` knows no named tuples, and the scan's
    process makes them ``DiskEntry`` in one C loop."""
    report = ListingReport()
    plain = cast(type[DiskEntry], tuple)
    lister = DirectoryLister(settings, report, entry_type=plain, told_by_bytes=told_by_bytes)

    def emit(entries: list[DiskEntry]) -> None:
        out.write(frame(BATCH, entries))
        out.flush()

    batcher = Batcher(settings.batch_size, emit)
    todo = [settings.root]
    while todo:
        todo.extend(lister.list_folder(todo.pop(), batcher))
        report.folders += 1
    batcher.flush()
    body = (report.raw_issues, report.failed, report.skipped, report.folders)
    out.write(frame(DONE, body))
    out.flush()


def serve(
    requests: BinaryIO, out: BinaryIO, told_by_bytes: Callable[[str, str], str | None]
) -> None:
    root, follow, excludes, skip_dirs, batch_size, sniff = marshal.loads(requests.read())
    skipped = frozenset(skip_dirs)
    settings = WalkSettings(
        root, follow, tuple(excludes), skipped, batch_size=batch_size, sniff=sniff
    )
    try:
        walk(settings, out, told_by_bytes)
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception:  # a bug: say what it was rather than end the stream silently
        out.write(frame(FAILED, traceback.format_exc()))
        out.flush()


if __name__ == "__main__":
    # content_type is standard library only too; imported by itself, not through the
    # package: -I -S leave the installed package off the path.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import content_type  # type: ignore[import-not-found]

    # A broken pipe or ^C: the scan went away, and a walk has nothing to clean up.
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(sys.stdin.buffer, sys.stdout.buffer, content_type.told_by_bytes)
