"""Walking a folder tree, handed to asyncio in batches: in a worker process, or in threads.

``walk_for`` picks the way. By default the walk runs in a ``walk_worker`` process, beside
the scan: at 100k files an unchanged rescan took 0.74-1.0 s with the walk in a thread and
0.28-0.33 s when its batches were already there, since the thread and the scan's own
Python (loading the known rows, planning) took turns on one GIL. Threads remain for a
frozen app, which has no interpreter to start, and for tests that inject faults into the
listing (``ScanHooks.before_listing`` can only run in this process).

Either way, what is listed and how is ``walk_worker.DirectoryLister``'s, and up to
``_BACKLOG`` batches wait for the event loop before the walk is held back.
"""

from __future__ import annotations

import asyncio
import contextlib
import marshal
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from functools import partial
from typing import IO, Any, cast

from filemeta_gui.domain.paths import display
from filemeta_gui.domain.scan import ScanError, ScanIssue
from filemeta_gui.services.indexer import walk_worker
from filemeta_gui.services.indexer.content_type import told_by_bytes
from filemeta_gui.services.indexer.hashing import PIPE_BUFFER, processes_available
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.walk_worker import (
    DEFAULT_THREADS,
    Batcher,
    DirectoryLister,
    DiskEntry,
    ExcludeMatcher,
    ListingReport,
    WalkSettings,
    os_reason,
)

__all__ = [
    "DEFAULT_THREADS",
    "DiskEntry",
    "ExcludeMatcher",
    "ProcessWalk",
    "ThreadedWalk",
    "Walk",
    "WalkReport",
    "WalkSettings",
    "os_reason",
    "walk_for",
]

_BACKLOG = 32  # batches waiting for the event loop before the walk is held back
_as_entry = partial(tuple.__new__, DiskEntry)


class WalkReport(ListingReport):
    """``ListingReport`` with the issues as the scan reports them (display paths)."""

    def take_issues(self) -> list[ScanIssue]:
        with self.lock:
            taken, self.raw_issues = self.raw_issues, []
        return [ScanIssue(display(path), reason) for path, reason in taken]


def walk_for(settings: WalkSettings, hooks: ScanHooks | None = None) -> Walk:
    """A walk in a worker process where one can be started and nothing asks for threads."""
    hooked = hooks is not None and hooks.before_listing is not None
    if hooked or settings.threads > 1 or not processes_available():
        return ThreadedWalk(settings, hooks)
    return ProcessWalk(settings)


class _Walk:
    """Batches from the walk's own threads to the event loop, at most ``_BACKLOG`` ahead.

    Always call :meth:`close` (the scanner does, in ``finally``): it stops the walk and
    waits for its threads.
    """

    runs_beside_the_scan = False
    """True when the walk may start before the known rows are loaded, because it does not
    compete with loading them for this process's GIL."""

    def __init__(self, settings: WalkSettings) -> None:
        self.settings = settings
        self.report = WalkReport()
        self.stop = threading.Event()
        self._room = threading.Semaphore(_BACKLOG)
        self._threads: list[threading.Thread] = []
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def batches(self) -> AsyncGenerator[list[DiskEntry], None]:
        if self._loop is None:
            self.start()
        while True:
            kind, value = await self._queue.get()
            if kind == "batch":
                self._room.release()
                yield self._entries(value)
            elif kind == "error":
                raise value
            elif kind == "done":
                return

    def _entries(self, value: Any) -> list[DiskEntry]:
        return cast(list[DiskEntry], value)

    def start(self) -> None:
        """Start walking now (``batches`` starts it otherwise): the walk runs ahead."""
        self._loop = asyncio.get_running_loop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name)
        thread.daemon = True  # never keep the app alive; close() still joins them
        self._threads.append(thread)
        thread.start()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the walk while the block runs (threads only: see ``ThreadedWalk``)."""
        yield

    def _wait_for_room(self) -> bool:
        """False when the walk is stopping (the consumer went away)."""
        while not self._room.acquire(timeout=0.2):
            if self.stop.is_set():
                return False
        return True

    def _post(self, kind: str, value: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the test above
            loop.call_soon_threadsafe(self._queue.put_nowait, (kind, value))

    async def close(self) -> None:
        """Stop the walk and wait until its threads have all ended."""
        self.stop.set()
        self._stopping()
        for _ in self._threads:
            self._room.release()  # wake threads waiting for room in the backlog
        threads = [thread for thread in self._threads if thread.is_alive()]
        if threads:
            await asyncio.to_thread(_join_all, threads)

    def _stopping(self) -> None:
        """Wake whatever the walk waits on (``close`` has set ``stop``)."""


class ThreadedWalk(_Walk):
    """Runs the walk in ``settings.threads`` threads of this process."""

    def __init__(self, settings: WalkSettings, hooks: ScanHooks | None = None) -> None:
        super().__init__(settings)
        self._go = threading.Event()  # cleared while the scan writes: see ``paused``
        self._go.set()
        listing_hook = (hooks or ScanHooks()).before_listing
        self._lister = DirectoryLister(
            settings, self.report, listing_hook, told_by_bytes=told_by_bytes
        )
        self._todo: list[str] = [settings.root]
        self._pending = 1  # folders listed or waiting to be: the walk ends at zero
        self._cond = threading.Condition()
        self._alive = 0

    def start(self) -> None:
        super().start()
        count = max(1, self.settings.threads)
        self._alive = count
        for number in range(count):
            self._spawn(self._work, f"filemeta-walk-{number}")

    def _work(self) -> None:
        out = Batcher(self.settings.batch_size, self._emit)
        try:
            while (folder := self._next_folder()) is not None:
                found = self._lister.list_folder(folder, out)
                self._finished_folder(found)
            if not self.stop.is_set():
                out.flush()
        except BaseException as error:  # a bug: hand it to the consumer, do not lose it
            self.stop.set()
            self._post("error", error)
        finally:
            self._thread_exit()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the walker threads (at their next folder or batch) while the block runs.

        sqlite3 releases the GIL for every row it steps through and must take it back for
        the next: with walker threads running Python meanwhile, each hand-back waits for
        the switch interval. Measured: 100k inserts took 4.9 s with the walk running, 1.3 s
        alone (a spinning thread beside them: minutes). The walk is the cheap part
        (0.6 s for 100k files here), so it waits while a batch is written.
        """
        self._go.clear()
        try:
            yield
        finally:
            self._go.set()

    def _wait_for_go(self) -> bool:
        """False when the walk is stopping."""
        while not self._go.wait(0.2):
            if self.stop.is_set():
                return False
        return not self.stop.is_set()

    def _next_folder(self) -> str | None:
        if not self._wait_for_go():
            return None
        with self._cond:
            while not self._todo and self._pending and not self.stop.is_set():
                self._cond.wait()
            if self.stop.is_set() or not self._todo:
                return None
            return self._todo.pop()

    def _finished_folder(self, found: list[str]) -> None:
        with self._cond:
            self.report.folders += 1
            self._todo.extend(found)
            self._pending += len(found) - 1
            self._cond.notify_all()

    def _emit(self, entries: list[DiskEntry]) -> None:
        if self._wait_for_go() and self._wait_for_room():
            self._post("batch", entries)

    def _thread_exit(self) -> None:
        with self._cond:
            self._alive -= 1
            last = self._alive == 0
            self._cond.notify_all()
        if last:
            self._post("done", None)

    def _stopping(self) -> None:
        with self._cond:
            self._cond.notify_all()


class ProcessWalk(_Walk):
    """Runs the walk in a ``walk_worker`` process; one thread here reads its frames.

    The thread only reads bytes (the GIL is free meanwhile); each batch is decoded on the
    event loop when it is taken, so nothing here runs Python while the scan writes, and
    ``paused`` has nothing to hold. Stopping kills the process: a walk writes nothing.
    """

    runs_beside_the_scan = True

    def __init__(self, settings: WalkSettings) -> None:
        super().__init__(settings)
        self._process: subprocess.Popen[bytes] | None = None
        self._process_lock = threading.Lock()

    def start(self) -> None:
        super().start()
        self._spawn(self._read_all, "filemeta-walk-reader")

    def _entries(self, value: Any) -> list[DiskEntry]:
        return list(map(_as_entry, marshal.loads(value)))

    def _read_all(self) -> None:
        try:
            replies = self._started()
            if replies is not None:
                self._relay(replies)
        except BaseException as error:  # a bug, or no process: hand it on, do not lose it
            self.stop.set()
            self._post("error", error)

    def _started(self) -> IO[bytes] | None:
        """The process's replies, its request sent; None when stopped meanwhile."""
        with self._process_lock:
            if self.stop.is_set():
                return None
            # Names cross as str: the worker must decode them as this process does. -I
            # drops PYTHONUTF8, so UTF-8 mode is passed on as it is here.
            utf8_mode = f"utf8={sys.flags.utf8_mode}"
            try:
                process = self._process = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-X", utf8_mode, walk_worker.__file__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    bufsize=PIPE_BUFFER,
                )
            except OSError as error:  # no interpreter there, no more processes allowed
                reason = os_reason(error)
                raise ScanError(f"The folder walk could not start: {reason}.") from error
        assert process.stdin is not None and process.stdout is not None
        with contextlib.suppress(BrokenPipeError):  # killed already: the reads see it
            process.stdin.write(self.settings.request())
            process.stdin.close()
        return process.stdout

    def _relay(self, replies: IO[bytes]) -> None:
        header = walk_worker.HEADER
        while True:
            head = replies.read(header.size)
            if len(head) < header.size:
                break
            kind, length = header.unpack(head)
            body = replies.read(length)
            if len(body) < length:
                break
            if kind == walk_worker.BATCH:
                if not self._wait_for_room():
                    return
                self._post("batch", body)
            elif kind == walk_worker.DONE:
                self._finish(marshal.loads(body))
                return
            else:
                raise ScanError(
                    f"The folder walk failed; nothing was removed.\n{marshal.loads(body)}"
                )
        if not self.stop.is_set():
            status = self._exit_status()
            raise ScanError(
                f"The folder walk stopped unexpectedly (exit status {status}); nothing was removed."
            )

    def _finish(self, body: tuple[Any, ...]) -> None:
        raw_issues, failed, skipped, folders = body
        with self.report.lock:
            self.report.raw_issues.extend(raw_issues)  # marshal gives tuples back as tuples
            self.report.failed.extend(failed)
            self.report.skipped += skipped
            self.report.folders += folders
        self._post("done", None)

    def _exit_status(self) -> int | None:
        process = self._process
        return None if process is None else process.wait()

    def _stopping(self) -> None:
        with self._process_lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    async def close(self) -> None:
        await super().close()
        process = self._process
        if process is not None:
            await asyncio.to_thread(process.wait)
            assert process.stdout is not None
            process.stdout.close()


Walk = ThreadedWalk | ProcessWalk


def _join_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join()
