"""The scanning process: ``python -m filemeta_gui.services.indexer.child`` (see ``isolated``).

It reads one :class:`~filemeta_gui.services.indexer.child_protocol.ScanRequest` from
stdin, opens its own ``Database`` and runs ``FolderScanner`` exactly as the app would in
process, writing each progress snapshot to stdout. Stopping is always cooperative, so what
is committed stays consistent: a ``CANCEL`` frame, stdin closing (the app went away) or
SIGTERM all call ``FolderScanner.cancel()``, and the scan ends with its usual cancelled
snapshot and its usual clean-up (threads joined, hash workers ended, indexes rebuilt).

stdout is the protocol channel only: it is moved to a private descriptor at start, and
descriptor 1 then points at stderr, so a stray ``print`` cannot corrupt a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import aclosing
from typing import IO

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

# Bigger switch interval: this process is all scan work, and fewer GIL hand-offs between
# its threads (the database driver's, the walk's reader, the event loop) mean less time
# lost to them (default 5 ms).
SWITCH_INTERVAL_S = 0.01
NICENESS = 10  # added to the app's own


def _protocol_channel() -> IO[bytes]:
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return channel


def _listen_for_cancel(requests: IO[bytes], cancel: Callable[[], None]) -> None:
    """Thread: wait for a CANCEL frame or the end of stdin, then ask the scan to stop."""
    try:
        while read_frame(requests) != CANCEL:
            pass
    except (EOFError, OSError, ValueError):
        pass  # the app closed the pipe (or died): stop just the same
    cancel()


async def run_request(request: ScanRequest, requests: IO[bytes], out: IO[bytes]) -> int:
    from filemeta_gui.db.engine import Database
    from filemeta_gui.domain.errors import FileMetaError
    from filemeta_gui.services.indexer.scanner import FolderScanner
    from filemeta_gui.startup import freeze_startup_objects

    loop = asyncio.get_running_loop()
    database = Database(request.database_url, monitoring=False)
    scanner = FolderScanner(database, request.folder_id, request.options, owner_id=request.owner_id)
    freeze_startup_objects()  # as the command line's scan does (see cli/scan_command.py)

    def cancel_soon() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nothing to stop
            loop.call_soon_threadsafe(scanner.cancel)

    loop.add_signal_handler(signal.SIGTERM, scanner.cancel)
    # A daemon: it may still wait on stdin when the scan has ended, and must not keep
    # this process alive for that.
    threading.Thread(target=_listen_for_cancel, args=(requests, cancel_soon), daemon=True).start()
    try:
        async with aclosing(scanner.progress()) as progress:
            async for snapshot in progress:
                write_frame(out, (PROGRESS, snapshot))
        write_frame(out, (DONE, None))
        return 0
    except BrokenPipeError:
        return 0  # the app stopped reading: closing the iterator above stopped the scan
    except FileMetaError as error:
        write_frame(out, (ERROR, ErrorReport.of(error)))
        return 1
    except Exception as error:  # a bug: report it whole, the app shows it
        write_frame(out, (ERROR, ErrorReport.of(error, traceback.format_exc())))
        return 1
    finally:
        await database.dispose()


def _yield_the_processor() -> None:
    """Run behind the window: on a machine whose cores this scan and its hash workers
    (which inherit the niceness) keep busy, the window's threads would otherwise queue
    for a core like any other. Desktop indexers do the same; the scan loses little, as
    the window needs a core only now and then. It counts only because the child stays in
    the app's session (``isolated.ChildScan._spawn``): Linux weighs niceness within a
    session, after sharing the processor between sessions."""
    with contextlib.suppress(OSError, AttributeError):  # not on this platform
        os.nice(NICENESS)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the app decides when this scan stops
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    _yield_the_processor()
    out = _protocol_channel()
    # Unbuffered: a buffered stdin has a lock, and the listener thread, still blocked in a
    # read when the scan ends, would hold it while the interpreter shuts down (fatal).
    requests = os.fdopen(os.dup(sys.stdin.fileno()), "rb", buffering=0)
    try:
        request = read_frame(requests)
    except EOFError:
        return 0  # the app went away before asking anything
    if not isinstance(request, ScanRequest):
        return 2
    try:
        return asyncio.run(run_request(request, requests, out))
    except BrokenPipeError:
        return 0  # reporting an error, the app had gone: nobody left to tell


if __name__ == "__main__":
    sys.exit(main())
