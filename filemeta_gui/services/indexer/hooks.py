"""Fault-injection seams for tests: what happens between two steps of a scan.

Races a scan must survive (a folder replaced while it is listed, a file deleted between
the walk and the hash, a file growing while it is read, the database going away inside a
write) cannot be timed from outside without sleeps. The scanner calls these hooks at
exactly those points instead; production code passes none and pays one ``is None`` test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class ScanHooks:
    before_listing: Callable[[str], None] | None = None
    """Called in a walker thread with a folder's path just before it is listed (a scan
    with this hook walks in threads: a worker process could not call it)."""
    before_hash: Callable[[str], None] | None = None
    """Called in a hashing thread with a file's path just before it is opened."""
    after_chunk: Callable[[str, int], None] | None = None
    """Called in a hashing thread after each chunk read: ``(path, attempt)``, attempt 1 or 2."""
    in_write: Callable[[AsyncSession, int], Awaitable[None]] | None = None
    """Awaited at the start of each write transaction, before its statements:
    ``(session, write_number)`` with write numbers counted from 1."""
