"""SHA-256 of many files, spread over as many workers as there are cores.

Workers are processes (``hash_worker``) whenever the interpreter can start them, threads
otherwise (a frozen app) and when a test installs fault-injection hooks, which can only
run in this process. Either way each worker is driven by one thread of a ``PackPool``:
work goes out in packs of files (one future per file costs more event-loop time than
hashing a small file) with a bounded number in flight, so a cancel is quick and the order
asked for (size-colliding files first) is kept.

Reading is the same in both (``hash_worker.hash_file``): 1 MiB chunks into one reused
buffer, size and mtime compared before and after, one more read if they differ, then a
report instead of a hash.
"""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import IO, Any, NamedTuple

from filemeta_gui.services.indexer import hash_worker
from filemeta_gui.services.indexer.hash_worker import (
    FileChangedError,
    HashingStopped,
    describe,
    hash_file,
)
from filemeta_gui.services.indexer.hooks import ScanHooks
from filemeta_gui.services.indexer.pool import PackPool

PACK_FILES = 256
PIPE_BUFFER = 1 << 16
PACK_BYTES = 32 << 20
_REASONS = {
    hash_worker.VANISHED: True,
    hash_worker.CHANGED: False,
    hash_worker.FAILED: False,
}


class HashJob(NamedTuple):
    key: Any
    """The caller's handle for the file (the row id)."""
    path: str
    size: int
    mtime_ns: int | None = None
    """As the row holds it; ``None`` when the row is still to be written."""


class HashResult(NamedTuple):
    key: Any
    path: str
    digest: str | None
    size: int
    mtime_ns: int
    error: str | None = None
    vanished: bool = False
    same_stats: bool = False
    """Size and mtime as the job's: the row holds them already, only the hash is new."""


class ByteCounter:
    """Bytes read so far by all workers, for smooth progress on big files."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, count: int) -> None:
        with self._lock:
            self.value += count


def _same(job: HashJob, size: int, mtime_ns: int) -> bool:
    return size == job.size and mtime_ns == job.mtime_ns


def colliding_first(jobs: Iterable[HashJob], sizes: Counter[int]) -> list[HashJob]:
    """Files sharing their size with another file first: duplicates are known early.

    ``sizes`` counts every file of the folder by size (not only those to hash).
    """
    first: list[HashJob] = []
    rest: list[HashJob] = []
    for job in jobs:
        (first if sizes[job.size] > 1 and job.size > 0 else rest).append(job)
    return first + rest


def packs(jobs: Sequence[HashJob]) -> list[list[HashJob]]:
    result: list[list[HashJob]] = []
    current: list[HashJob] = []
    weight = 0
    for job in jobs:
        if current and (len(current) >= PACK_FILES or weight + job.size > PACK_BYTES):
            result.append(current)
            current, weight = [], 0
        current.append(job)
        weight += job.size
    if current:
        result.append(current)
    return result


def processes_available() -> bool:
    """A frozen app has no interpreter to start workers with."""
    return not getattr(sys, "frozen", False) and bool(sys.executable)


# --- threads ---------------------------------------------------------------------------------

_buffers = threading.local()


def _thread_buffer() -> memoryview:
    view = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(hash_worker.CHUNK))
    return view


def hash_in_thread(
    job: HashJob, stop: threading.Event, counter: ByteCounter, hooks: ScanHooks
) -> HashResult:
    def on_chunk(count: int, attempt: int) -> None:
        counter.add(count)
        if stop.is_set():
            raise HashingStopped
        if hooks.after_chunk is not None:
            hooks.after_chunk(job.path, attempt)

    if hooks.before_hash is not None:
        hooks.before_hash(job.path)
    try:
        digest, size, mtime_ns = hash_file(job.path, _thread_buffer(), on_chunk)
    except FileNotFoundError:
        return HashResult(job.key, job.path, None, job.size, 0, "vanished before it was read", True)
    except FileChangedError:
        reason = "kept changing while it was read (tried twice); not hashed"
        return HashResult(job.key, job.path, None, job.size, 0, reason)
    except OSError as error:
        return HashResult(job.key, job.path, None, job.size, 0, f"cannot read: {describe(error)}")
    return HashResult(
        job.key, job.path, digest.hex(), size, mtime_ns, same_stats=_same(job, size, mtime_ns)
    )


# --- processes -------------------------------------------------------------------------------


class _WorkerProcess:
    """One ``hash_worker`` process, driven by one pool thread (request, then replies)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", hash_worker.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Buffered: a reply is read in pieces of a few bytes, and unbuffered each
            # piece was a system call (400k of them for 100k files).
            bufsize=PIPE_BUFFER,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests: IO[bytes] = self.process.stdin
        self.replies: IO[bytes] = self.process.stdout

    def hash(self, jobs: Sequence[HashJob], counter: ByteCounter) -> list[HashResult]:
        """Raises ``HashingStopped`` when the process was killed (the scan is stopping)."""
        frame = b"\0".join([os.fsencode(job.path) for job in jobs])
        try:
            self._write(b"H" + struct.pack("<I", len(frame)) + frame)
            reported = 0  # progress replies come every 16 MiB; the rest is counted at the end
            while (kind := self._read(1)) == b"P":
                (count,) = struct.unpack("<Q", self._read(8))
                counter.add(count)
                reported += count
            if kind != b"R" or struct.unpack("<I", self._read(4))[0] != len(jobs):
                raise HashingStopped
            results = self._records(jobs)
        except (OSError, EOFError) as error:  # a closed pipe: killed by close()
            raise HashingStopped from error
        done = sum(result.size for result in results if result.digest is not None)
        counter.add(max(done - reported, 0))
        return results

    def _write(self, data: bytes) -> None:
        self.requests.write(data)
        self.requests.flush()

    def _read(self, count: int) -> bytes:
        data = self.replies.read(count)  # buffered: returns short only at end of stream
        if len(data) < count:
            raise EOFError
        return data

    def _records(self, jobs: Sequence[HashJob]) -> list[HashResult]:
        fixed = hash_worker.RECORD.iter_unpack(self._read(hash_worker.RECORD.size * len(jobs)))
        results: list[HashResult] = []
        for job, (status, digest, size, mtime_ns) in zip(jobs, fixed, strict=True):
            if status == hash_worker.OK:
                same = _same(job, size, mtime_ns)
                results.append(
                    HashResult(job.key, job.path, digest.hex(), size, mtime_ns, None, False, same)
                )
                continue
            (length,) = struct.unpack("<H", self._read(2))
            reason = self._read(length).decode("utf-8", "replace")
            results.append(
                HashResult(job.key, job.path, None, job.size, 0, reason, _REASONS[status])
            )
        return results

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.requests.close()
        self.replies.close()


# --- the pool --------------------------------------------------------------------------------


class HashPool:
    """Hashes jobs in packs; ``results`` yields each finished pack's results."""

    def __init__(
        self,
        hooks: ScanHooks | None = None,
        workers: int | None = None,
        processes: bool | None = None,
    ) -> None:
        self.hooks = hooks or ScanHooks()
        self.counter = ByteCounter()
        hooked = self.hooks.before_hash is not None or self.hooks.after_chunk is not None
        self.processes = (not hooked and processes_available()) if processes is None else processes
        self._pool: PackPool[list[HashJob], list[HashResult]] = PackPool(
            self._hash_pack, workers, "hash"
        )
        self._local = threading.local()
        self._workers: list[_WorkerProcess] = []
        self._workers_lock = threading.Lock()

    @property
    def stop(self) -> threading.Event:
        return self._pool.stop

    @property
    def workers(self) -> int:
        return self._pool.workers

    def _hash_pack(self, jobs: list[HashJob]) -> list[HashResult]:
        if self.stop.is_set():
            return []
        try:
            if self.processes:
                return self._process().hash(jobs, self.counter)
            return [hash_in_thread(job, self.stop, self.counter, self.hooks) for job in jobs]
        except HashingStopped:
            return []  # the scan is ending; the next one hashes what is left

    def _process(self) -> _WorkerProcess:
        worker: _WorkerProcess | None = getattr(self._local, "worker", None)
        if worker is None:
            worker = self._local.worker = _WorkerProcess()
            with self._workers_lock:
                self._workers.append(worker)
                if self.stop.is_set():  # close() ran while this one was starting
                    worker.kill()
        return worker

    def results(
        self, jobs: Sequence[HashJob], tick: float | None = None
    ) -> AsyncGenerator[list[HashResult] | None, None]:
        """Results pack by pack; ``None`` every ``tick`` seconds while none is finished."""
        return self._pool.results(packs(jobs), tick)

    def results_of_packs(
        self, packed: Sequence[list[HashJob]], tick: float | None = None
    ) -> AsyncGenerator[list[HashResult] | None, None]:
        """``results`` for jobs already grouped by ``packs`` (in a thread, when many)."""
        return self._pool.results(packed, tick)

    async def close(self) -> None:
        """Stop: threads notice within one chunk, processes are killed; wait for all."""
        self.stop.set()
        with self._workers_lock:
            workers = list(self._workers)
        if workers:
            await asyncio.to_thread(_kill_all, workers)
        await self._pool.close()


def _kill_all(workers: list[_WorkerProcess]) -> None:
    for worker in workers:
        worker.kill()
