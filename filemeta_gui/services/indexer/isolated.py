"""Scanning in a child process, so that the app's own GIL is never held by scan work.

In process, a scan's walker and planner threads run Python code for every file, and
while they hold the GIL the event loop — the GUI thread under qasync — waits for it:
100-240 ms stalls were measured scanning 100k files. Here the scan runs in
``python -m filemeta_gui.services.indexer.child`` with its own ``Database``; this process
only reads progress frames (``child_protocol``) in a thread that spends its time blocked in
``read()``, which holds no GIL, and hands them to the event loop. Nothing here depends on
the loop's subprocess or pipe support (qasync has its own), only on threads.

* Credentials: the database URL, password included, goes through the child's stdin,
  never its command line or environment (both are visible to other users).
* Cancelling — ``cancel()``, closing the iterator or cancelling the consuming task — asks
  the child to stop (a ``CANCEL`` frame; SIGTERM works too) and waits for it: it ends like
  an in-process scan, with its committed batches consistent and its indexes rebuilt. Only
  a child that has not ended after ``stop_grace`` seconds is killed, with everything it
  started (it leads its own process group); the next scan repairs what it left.
* Errors: a ``FileMetaError`` in the child is raised here as the same class with the same
  message; anything else as a ``ScanError`` carrying the child's traceback as a note.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import filemeta_gui
from filemeta_gui.domain.scan import ScanError, ScanOptions, ScanProgress
from filemeta_gui.services.indexer.child_protocol import (
    CANCEL,
    DONE,
    ERROR,
    PROGRESS,
    ErrorReport,
    ScanRequest,
    read_frame,
    write_frame,
)

CHILD_MODULE = "filemeta_gui.services.indexer.child"
READER_THREAD = "filemeta-scan-reader"
# Long enough for a cancelled bulk load to rebuild its indexes (seconds per 100k rows).
STOP_GRACE_S = 60.0
_ENDED = "ended"
_POSIX = os.name == "posix"


def scan_in_child(
    database_url: str,
    folder_id: uuid.UUID,
    options: ScanOptions | None = None,
    owner_id: uuid.UUID | None = None,
) -> AsyncIterator[ScanProgress]:
    """``scan_folder`` in a child process: the same snapshots, the same errors.

    ``database_url`` must carry the password (``URL.render_as_string(hide_password=False)``).
    """
    # asyncpg hands out its own UUID subclass; only the standard one may cross the pipe.
    folder = uuid.UUID(str(folder_id))
    owner = uuid.UUID(str(owner_id)) if owner_id is not None else None
    request = ScanRequest(database_url, folder, options or ScanOptions(), owner)
    return ChildScan(request).progress()


def child_environment() -> dict[str, str]:
    """The app's environment, with this very package first on the child's import path."""
    env = dict(os.environ)
    root = str(Path(filemeta_gui.__file__).resolve().parent.parent)
    paths = [root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class ChildScan:
    """One scan in one child process; iterate :meth:`progress` once."""

    def __init__(self, request: ScanRequest, *, stop_grace: float = STOP_GRACE_S) -> None:
        self.request = request
        self.stop_grace = stop_grace
        self.process: subprocess.Popen[bytes] | None = None
        self._messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._reader: threading.Thread | None = None
        self._stdin_lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def progress(self) -> AsyncGenerator[ScanProgress, None]:
        try:
            await self._start()
            while True:
                kind, payload = await self._messages.get()
                if kind == PROGRESS:
                    yield payload
                elif kind == DONE:
                    return
                elif kind == ERROR:
                    assert isinstance(payload, ErrorReport)
                    raise payload.rebuild()
                else:
                    raise await self._ended_unexpectedly()
        finally:
            await self.stop()

    def cancel(self) -> None:
        """Ask the child to stop soon; the iterator then ends with a cancelled snapshot."""
        self._send(CANCEL)

    async def stop(self) -> None:
        """Make sure the child has ended (asking first, killing after ``stop_grace``)."""
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                self._send(CANCEL)
                self._close_stdin()
                try:
                    await asyncio.to_thread(process.wait, self.stop_grace)
                except subprocess.TimeoutExpired:
                    self._kill()
            await asyncio.to_thread(self._finish)
        except BaseException:  # cancelled again while waiting: never leave the child behind
            self._kill()
            self._finish()
            raise

    # --- the child ---------------------------------------------------------------------------

    async def _start(self) -> None:
        # Popen forks and execs: off the event loop, like any other blocking call.
        self.process = await asyncio.to_thread(self._spawn)
        loop = asyncio.get_running_loop()
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._read_all, args=(self.process.stdout, loop), name=READER_THREAD
        )
        self._reader.daemon = True  # never keeps the app alive; stop() joins it
        self._reader.start()
        await asyncio.to_thread(self._send, self.request)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", CHILD_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=child_environment(),
            # Its own process group: a kill reaches its hash workers too, and a Ctrl+C
            # meant for the app does not cut a write short. Not its own session: Linux
            # shares the processor between sessions first ("autogroups") and applies
            # niceness only within one, so in a session of its own the scan's lowered
            # priority did nothing and took a core's worth from the window's threads.
            process_group=0 if _POSIX else None,
        )

    def _read_all(self, stdout: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Thread: every frame to the event loop, until the child closes its end."""
        try:
            while True:
                self._post(loop, read_frame(stdout))
        except Exception:  # EOF (the usual end), or a frame that makes no sense
            pass
        self._post(loop, (_ENDED, None))

    def _post(self, loop: asyncio.AbstractEventLoop, message: tuple[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is listening
            loop.call_soon_threadsafe(self._messages.put_nowait, message)

    def _send(self, message: object) -> None:
        process = self.process
        if process is None or process.stdin is None:
            return
        with self._stdin_lock, contextlib.suppress(OSError, ValueError):  # it has ended
            write_frame(process.stdin, message)

    def _close_stdin(self) -> None:
        process = self.process
        if process is not None and process.stdin is not None:
            with self._stdin_lock, contextlib.suppress(OSError):
                process.stdin.close()

    async def _ended_unexpectedly(self) -> ScanError:
        assert self.process is not None
        status = await asyncio.to_thread(self.process.wait)
        return ScanError(
            f"The scanning process ended unexpectedly (exit status {status}); "
            "what it had written is kept, and the next scan continues from there."
        )

    def _kill(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if _POSIX:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()

    def _finish(self) -> None:
        """Blocking: wait for the process and the reader thread, close the pipes."""
        assert self.process is not None
        self.process.wait()
        self._close_stdin()
        if self._reader is not None:
            self._reader.join()
        if self.process.stdout is not None:
            self.process.stdout.close()
