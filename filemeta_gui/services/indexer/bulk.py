"""Big loads without the secondary indexes, which are built once at the end.

DESIGN.md: "build secondary and FTS indexes after a first big load". Measured here at 100k
new rows, on a loaded 2-core machine:

* the substring-search index (FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL, see
  ``db.search_index``) made the inserts 10 s instead of 1.9 s (+0.8 s to rebuild it);
* storing the hashes afterwards is an UPDATE of every row, and on PostgreSQL no update is
  HOT (``hash_value`` is indexed), so each one adds an entry to all 12 indexes: 7.7 s with
  them, a fraction of that with only the primary key and ``file_path``.

So once the rows a scan inserts reach a quarter of the library, the search index and the
model's secondary B-tree indexes are dropped; the unique ``file_path`` and the primary
key stay (conflicts and updates by id need them). On PostgreSQL the foreign keys of
``files`` go too: checking them took half of each COPY (100k rows: 1.0-1.2 s with them,
0.50-0.55 s without, and 65 ms to check them all at once when they come back). The
search index comes back as soon as the paths are final on SQLite (searches would miss the
new files), everything else after hashing. While they are away, lists sort and filter
slower, nothing is wrong. A scan that dies anyway leaves the repair to the next scan,
which checks before it starts (``indexes_need_repair``); opening the library could do the
same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import AddConstraint, CreateIndex

from filemeta_gui.db.schema_filter import made_on
from filemeta_gui.db.search_index import (
    rebuild_search_index,
    refresh_statistics,
    search_index_suspended,
    suspend_search_index,
)
from filemeta_gui.domain.errors import ConnectionLostError, FileMetaError
from filemeta_gui.repositories.index_writes import FILES

WriteFn = Callable[[], AbstractAsyncContextManager[AsyncSession]]
BULK_MIN_ROWS = 1_000
# DROP INDEX waits for every transaction reading ``files``: better to keep the indexes
# than to stall every client of a shared server behind one long query.
LOCK_TIMEOUT = "2s"
# PostgreSQL builds an index of a table this size in one server process, and two builds
# on one table do not block each other: on two connections, a 100k-row load's B-trees and
# trigram index took 1.4 s on a 2-core machine, against 2.3 s one after the other. Two
# rather than the server's cores: it is shared, and this would take all of them.
INDEX_BUILDERS = 2


# Secondary B-tree indexes of ``files`` as the models declare them. The primary key and the
# unique ``file_path`` stay: inserts need them (ON CONFLICT) and so do updates by id. Schema
# operations like ``db.search_index``'s, kept here while the indexer is their only user.
SECONDARY_INDEXES = tuple(sorted(FILES.indexes, key=lambda index: str(index.name)))


async def drop_secondary_indexes(session: AsyncSession, covering: str | None = None) -> None:
    """Writes then maintain two indexes, not 12 (or drop only those holding ``covering``)."""
    for index in SECONDARY_INDEXES:
        if covering is None or covering in index.columns:
            await session.execute(text(f"DROP INDEX IF EXISTS {index.name}"))


# The foreign keys of ``files``; PostgreSQL only (SQLite cannot drop a constraint).
FOREIGN_KEYS = tuple(sorted(FILES.foreign_key_constraints, key=lambda key: str(key.name)))


async def drop_foreign_keys(session: AsyncSession) -> None:
    for key in FOREIGN_KEYS:
        await session.execute(text(f"ALTER TABLE files DROP CONSTRAINT IF EXISTS {key.name}"))


async def missing_foreign_keys(session: AsyncSession) -> list[str]:
    if (await session.connection()).dialect.name != "postgresql":
        return []
    return await _missing_from_files(session, "get_foreign_keys", FOREIGN_KEYS)


async def _missing_from_files(session: AsyncSession, reflect: str, wanted: Any) -> list[str]:
    """Names of ``wanted`` (indexes or constraints) that the ``files`` table lacks, as the
    inspector's ``reflect`` method (``get_indexes``, ``get_foreign_keys``) lists it."""

    def _missing(sync_session: Any) -> list[str]:
        connection = sync_session.connection()
        present = {item["name"] for item in getattr(inspect(connection), reflect)("files")}
        dialect = connection.dialect.name
        return [
            str(item.name) for item in wanted if item.name not in present and made_on(item, dialect)
        ]

    return list(await session.run_sync(_missing))


async def restore_foreign_keys(session: AsyncSession) -> None:
    """Put back the missing foreign keys, first doing what they would have done meanwhile:
    rows of a folder removed during the load go (ON DELETE CASCADE), owners who were
    removed are forgotten (SET NULL). Adding a key checks every row in one query."""
    missing = set(await missing_foreign_keys(session))
    if not missing:
        return
    await session.execute(
        text(
            "DELETE FROM files AS f WHERE f.folder_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM folders WHERE folders.id = f.folder_id)"
        )
    )
    await session.execute(
        text(
            "UPDATE files AS f SET owner_id = NULL WHERE f.owner_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM users WHERE users.id = f.owner_id)"
        )
    )
    for key in FOREIGN_KEYS:
        if key.name in missing:
            await session.execute(AddConstraint(key))


async def missing_secondary_indexes(session: AsyncSession) -> list[str]:
    return await _missing_from_files(session, "get_indexes", SECONDARY_INDEXES)


async def create_secondary_indexes(session: AsyncSession) -> None:
    """Create whichever are missing (idempotent: also repairs a load that died)."""

    for index in SECONDARY_INDEXES:
        await create_index(session, index)


async def create_index(session: AsyncSession, index: Any) -> None:
    """One of ``SECONDARY_INDEXES``, unless it is there already.

    ``IF NOT EXISTS`` rather than SQLAlchemy's ``checkfirst``, which reflects the table's
    indexes first: on PostgreSQL that was 6 ms a build, 0.12 s of a 100k-file first scan.
    """
    connection = await session.connection()
    dialect = connection.dialect.name
    if not made_on(index, dialect):
        return
    if dialect == "postgresql":
        # The builds already run two at a time (``INDEX_BUILDERS``); parallel workers of
        # each as well put six processes on two cores. Without them, a 100k-file first
        # scan's server used 2.7-2.8 CPU-seconds instead of 2.9-3.0, no slower.
        await session.execute(text("SET LOCAL max_parallel_maintenance_workers = 0"))
    await session.execute(CreateIndex(index, if_not_exists=True))


async def run_side_by_side(jobs: list[Callable[[], Awaitable[None]]], workers: int) -> None:
    """Run ``jobs`` in order, at most ``workers`` at a time. The first failure cancels the
    rest and is raised as itself (callers catch ``FileMetaError``, not exception groups)."""
    waiting = deque(jobs)

    async def worker() -> None:
        while waiting:
            await waiting.popleft()()

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(workers, len(jobs))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


async def indexes_need_repair(session: AsyncSession) -> bool:
    """True when a bulk load that died left some index or foreign key dropped."""
    if await missing_secondary_indexes(session) or await missing_foreign_keys(session):
        return True
    return await search_index_suspended(session)


async def repair_indexes(write: WriteFn) -> None:
    """Best effort: a team member who does not own the tables may not create indexes, and
    that must not stop their scan (the owner's next scan repairs them)."""
    try:
        async with write() as session:
            await create_secondary_indexes(session)
            await restore_foreign_keys(session)
            await rebuild_search_index(session)
    except ConnectionLostError:
        raise
    except FileMetaError:
        pass


class BulkLoad:
    def __init__(
        self, write: WriteFn, library_rows: int, postgresql: bool, min_rows: int = BULK_MIN_ROWS
    ) -> None:
        self.write = write
        self.postgresql = postgresql
        self.threshold = max(min_rows, library_rows // 4) if min_rows >= 0 else -1
        self.planned = 0
        self.search_dropped = False
        self.indexes_dropped = False
        self.keys_dropped = False

    @property
    def active(self) -> bool:
        return self.search_dropped or self.indexes_dropped or self.keys_dropped

    async def before_inserts(self, count: int) -> None:
        """Called with each batch's number of new rows, before they are written."""
        if self.active or count == 0 or self.threshold < 0:
            return
        self.planned += count
        if self.planned >= self.threshold:
            await self._drop(covering=None, search=True)

    async def before_hashing(self, count: int) -> None:
        """Before hashing ``count`` files that have rows: each hash is an UPDATE."""
        if self.active or self.threshold < 0 or count < self.threshold:
            return
        # SQLite updates only the indexes holding hash_value; PostgreSQL adds an entry to
        # every index of the table (GIN trigram ones included) for each updated row.
        if self.postgresql:
            await self._drop(covering=None, search=True)
        else:
            await self._drop(covering="hash_value", search=False)

    async def _drop(self, covering: str | None, search: bool) -> None:
        try:
            async with self.write() as session:
                if self.postgresql:
                    await session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                if search:
                    await suspend_search_index(session)
                await drop_secondary_indexes(session, covering)
                keys = self.postgresql and covering is None
                if keys:
                    await drop_foreign_keys(session)
        except ConnectionLostError:
            raise
        except FileMetaError:
            self.threshold = -1  # the lock was not granted: keep the indexes in place
            return
        self.search_dropped = search
        self.indexes_dropped = True
        self.keys_dropped = keys

    async def paths_final(self) -> None:
        """After the walk and the moves: SQLite gets its search index back now."""
        if self.search_dropped and not self.postgresql:
            async with self.write() as session:
                await rebuild_search_index(session)
            self.search_dropped = False

    async def finish(self) -> None:
        """After hashing: build every index that was dropped."""
        if not self.active:
            return
        if self.postgresql:
            await self._finish_on_server()
        else:
            async with self.write() as session:
                if self.indexes_dropped:
                    await create_secondary_indexes(session)
                if self.search_dropped:
                    await rebuild_search_index(session)
        self.search_dropped = self.indexes_dropped = self.keys_dropped = False

    async def _finish_on_server(self) -> None:
        """PostgreSQL: the keys first (adding one waits for every index build on ``files``,
        and checks the table in 65 ms), then the indexes on ``INDEX_BUILDERS`` connections,
        the longest build first, then fresh statistics. Each step commits on its own: a
        failure part way leaves a few indexes missing, which the next scan repairs."""
        if self.keys_dropped:
            async with self.write() as session:
                await restore_foreign_keys(session)
        builds: list[Callable[[AsyncSession], Awaitable[None]]] = []
        if self.search_dropped:
            builds.append(partial(rebuild_search_index, analyze=False))
        if self.indexes_dropped:
            builds += [partial(create_index, index=index) for index in SECONDARY_INDEXES]
        await run_side_by_side([self._committed(build) for build in builds], INDEX_BUILDERS)
        async with self.write() as session:
            await refresh_statistics(session)

    def _committed(
        self, step: Callable[[AsyncSession], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            async with self.write() as session:
                await step(session)

        return run

    async def finish_after_failure(self) -> None:
        """On the way out of a failed or cancelled scan: try, but never mask the cause."""
        with contextlib.suppress(FileMetaError):  # the next scan repairs it
            await self.finish()
