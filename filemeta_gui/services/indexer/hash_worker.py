"""Hashing one file, and a worker process that hashes the files it is sent.

Standard library only, and nothing imported from the package: the worker is started as
``python -I -S hash_worker.py``, so a process is up in a few tens of milliseconds and
never loads Qt, SQLAlchemy or the app's ``__main__`` (which ``multiprocessing`` would).

Why processes at all: threads share the GIL, and a small file costs half a dozen system
calls, each of which gives the GIL up and takes it back. Measured on the benchmark tree
(median 8 KiB), two hashing threads were slower than one; two processes are not.

Protocol on stdin/stdout (binary, little-endian):

* request: ``b"H"``, u32 length, then the paths' bytes separated by NUL (which no path
  holds);
* replies: ``b"P"`` u64 (bytes read since the last one, while a big file is read), and
  one ``b"R"`` u32 count, then per file a fixed record (``RECORD``: u8 status, the
  32-byte digest, i64 size, i64 mtime_ns; zeros where a file failed), then for each file
  that failed, in order, u16 length and a UTF-8 reason. Fixed records are unpacked in one
  C loop (``struct.iter_unpack``): per-field reads cost the scan's process more than
  the worker spent reading a small file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import struct
import sys
from collections.abc import Callable
from typing import BinaryIO

CHUNK = 1 << 20
PROGRESS_EVERY = 16  # chunks between two progress replies
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)

OK, VANISHED, CHANGED, FAILED = 0, 1, 2, 3
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U16 = struct.Struct("<H")
RECORD = struct.Struct("<B32sqq")
_NO_DIGEST = bytes(32)


def _read_into(fd: int, buffer: memoryview) -> int:
    """``readv`` where there is one (it reads straight into our buffer), else ``read``."""
    if hasattr(os, "readv"):
        return os.readv(fd, [buffer])
    data = os.read(fd, len(buffer))  # Windows
    buffer[: len(data)] = data
    return len(data)


class FileChangedError(Exception):
    """The file kept changing while it was read."""


class HashingStopped(Exception):
    """The scan is being cancelled: the file being read is dropped."""


def _read_digest(
    fd: int,
    expected: int,
    buffer: memoryview,
    on_chunk: Callable[[int, int], None],
    attempt: int,
) -> bytes:
    digest, total = hashlib.sha256(), 0
    while total < expected:
        count = _read_into(fd, buffer)
        if count == 0:
            break  # truncated since fstat: the size check after the read catches it
        digest.update(buffer[:count])
        total += count
        on_chunk(count, attempt)
    return digest.digest()


def hash_file(
    path: str | bytes, buffer: memoryview, on_chunk: Callable[[int, int], None]
) -> tuple[bytes, int, int]:
    """``(digest, size, mtime_ns)`` of a regular file, read again once if it changed.

    ``on_chunk(bytes_read, attempt)`` runs after every chunk; it may raise
    ``HashingStopped``. Size and mtime are taken before and after the read: if they
    differ the file changed underneath, it is read once more, then ``FileChangedError``.
    """
    for attempt in (1, 2):
        fd = os.open(path, _OPEN_FLAGS)  # O_NONBLOCK: a FIFO put here since the walk
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                raise OSError(errno.EINVAL, "it is no longer a regular file")
            digest = _read_digest(fd, before.st_size, buffer, on_chunk, attempt)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns):
            return digest, after.st_size, after.st_mtime_ns
    raise FileChangedError


def describe(error: OSError) -> str:
    if error.errno == errno.ENAMETOOLONG:
        return "the path is longer than the operating system allows"
    return (error.strerror or str(error)).lower()


# --- the worker process ----------------------------------------------------------------------


def _read_exactly(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise EOFError
    return data


def _reply(path: bytes, buffer: memoryview, out: BinaryIO) -> tuple[bytes, bytes]:
    """(the file's record, its failure's reason or nothing)."""
    pending = [0, 0]

    def progress(count: int, _attempt: int) -> None:
        pending[0] += count
        pending[1] += 1
        if pending[1] % PROGRESS_EVERY == 0:
            out.write(b"P" + _U64.pack(pending[0]))
            out.flush()
            pending[0] = 0

    try:
        digest, size, mtime_ns = hash_file(path, buffer, progress)
    except FileNotFoundError:
        return _failure(VANISHED, "vanished before it was read")
    except FileChangedError:
        return _failure(CHANGED, "kept changing while it was read (tried twice); not hashed")
    except OSError as error:
        return _failure(FAILED, f"cannot read: {describe(error)}")
    return RECORD.pack(OK, digest, size, mtime_ns), b""


def _failure(status: int, reason: str) -> tuple[bytes, bytes]:
    text = reason.encode("utf-8", "replace")[:60_000]
    return RECORD.pack(status, _NO_DIGEST, 0, 0), _U16.pack(len(text)) + text


def serve(requests: BinaryIO, out: BinaryIO) -> None:
    """Answer requests until stdin closes (the scan ended) or ``b"Q"``."""
    buffer = memoryview(bytearray(CHUNK))
    while True:
        kind = requests.read(1)
        if kind in (b"", b"Q"):
            return
        (length,) = _U32.unpack(_read_exactly(requests, 4))
        paths = _read_exactly(requests, length).split(b"\0")
        replies = [_reply(path, buffer, out) for path in paths]
        records = b"".join(record for record, _ in replies)
        reasons = b"".join(reason for _, reason in replies)
        out.write(b"R" + _U32.pack(len(paths)) + records + reasons)
        out.flush()


if __name__ == "__main__":
    # EOF, a broken pipe, ^C: the scan went away, and a worker has nothing to clean up.
    with contextlib.suppress(EOFError, BrokenPipeError, KeyboardInterrupt):
        serve(sys.stdin.buffer, sys.stdout.buffer)
