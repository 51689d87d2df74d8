"""The indexer's SQL: one query to read a folder, one statement per batch to write it.

A scan of 100k files must not run 100k statements (DESIGN.md). ``load_known`` reads a
folder in one query; writes take whole batches: PostgreSQL one statement over ``unnest()``
of arrays (or a binary COPY), SQLite ``executemany`` of one prepared statement (the loop
runs in C in the driver's thread, with no parameter limit). Values go in the driver's own
form (``RowCodec``): the ORM's per-value type processing would cost more than the insert.

New rows get time-ordered UUIDs (version 7): they land at the right-hand end of the
primary-key index instead of on random pages, which makes bulk inserts cheaper.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple, NoReturn, cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from filemeta_gui.db.errors import translate_error
from filemeta_gui.db.models import File, Folder
from filemeta_gui.domain.errors import ConnectionLostError
from filemeta_gui.domain.paths import from_stored, to_stored

FILES = cast(Table, File.__table__)
# column:PostgreSQL type (for unnest), in the order of ``RowCodec.insert_row``.
_INSERT_SPEC = (
    "id:uuid filename:text file_path:text raw_path:bytea file_size:int8 content_type:text "
    "extension:text upload_time:timestamptz mtime_ns:int8 inode:int8 device:int8 "
    "folder_id:uuid owner_id:uuid version:int4"
)
INSERT_COLUMNS = tuple(tuple(pair.split(":")) for pair in _INSERT_SPEC.split())
LOAD_PARTITION = 2_000  # rows turned into objects on the event loop at a time
_INT64_LIMIT = 1 << 63


class KnownRow(NamedTuple):
    """What a rescan needs to know about a row already in the library."""

    id: Any
    """The id as the driver returned it: handed back to the driver unchanged."""
    size: int
    mtime_ns: int
    hash_value: str | None
    deleted: int
    """Truthy when soft-deleted (0/1 from SQL: neither backend's bool is needed here)."""
    inode: int | None
    device: int | None
    content_type: str
    has_thumbnail: int


def new_file_ids(count: int) -> list[str]:
    """``count`` time-ordered UUIDs (RFC 9562 version 7), as 32 hex digits.

    48 bits of Unix time in ms, then random bits; the low bits of one random start are
    counted up within the batch (the RFC's "dedicated counter" method), so ids are unique
    and ascending without one ``os.urandom`` call and one ``UUID`` object per row. Both
    drivers take the hex form: SQLite stores it as is, asyncpg parses it into ``uuid``.
    """
    millis = time.time_ns() // 1_000_000
    random_a = int.from_bytes(os.urandom(2), "big") & 0xFFF
    random_b = int.from_bytes(os.urandom(8), "big") >> 3  # 61 bits: the count never carries
    base = millis << 80 | 0x7 << 76 | random_a << 64 | 0b10 << 62 | random_b
    return [f"{base + offset:032x}" for offset in range(count)]


def signed64(value: int) -> int:
    """Inode and device numbers are unsigned 64-bit; BIGINT is signed. Wrap, losslessly."""
    return value - (1 << 64) if value >= _INT64_LIMIT else value


class RowCodec:
    """Turns scan results into rows in the driver's form for one dialect.

    The ORM types' own bind processors are looked up once here and applied only where a
    value needs them (ids, timestamps), instead of to every column of every row.
    """

    def __init__(self, dialect: Dialect, folder_id: uuid.UUID, owner_id: uuid.UUID | None) -> None:
        self._id = FILES.c.id.type.dialect_impl(dialect).bind_processor(dialect)
        self._time = FILES.c.upload_time.type.dialect_impl(dialect).bind_processor(dialect)
        self.postgresql = dialect.name == "postgresql"
        self.folder_id = self.driver_id(folder_id)
        self.owner_id = None if owner_id is None else self.driver_id(owner_id)

    def driver_id(self, value: uuid.UUID) -> Any:
        return self._id(value) if self._id is not None else value

    def driver_time(self, value: datetime) -> Any:
        return self._time(value) if self._time is not None else value

    def new_ids(self, count: int) -> list[str]:
        return new_file_ids(count)

    @staticmethod
    def as_uuid(driver_id: Any) -> uuid.UUID:
        return driver_id if isinstance(driver_id, uuid.UUID) else uuid.UUID(str(driver_id))

    def insert_row(
        self,
        row_id: Any,
        stored: tuple[str, bytes | None],
        name: tuple[str, str, str],
        stats: tuple[int, int, int, int],
        upload_time: Any,
    ) -> tuple[Any, ...]:
        """``stored``: (path text, raw bytes); ``name``: (filename, extension, type);
        ``stats``: (size, mtime_ns, inode, device). Order of ``INSERT_COLUMNS``."""
        filename, extension, content_type = name
        size, mtime_ns, inode, device = stats
        return (
            row_id, filename, stored[0], stored[1], size, content_type, extension,
            upload_time, mtime_ns, signed64(inode), signed64(device),
            self.folder_id, self.owner_id, 1,
        )  # fmt: skip


# --- reading ---------------------------------------------------------------------------------

# Column order matters: everything after the two path columns is a KnownRow, as is.
_KNOWN_COLUMNS = (
    "file_path, raw_path, id, file_size, mtime_ns, hash_value, "
    "CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, inode, device, content_type, "
    "CASE WHEN thumbnail_path IS NULL THEN 0 ELSE 1 END"
)


async def load_known(
    database_connection: AsyncConnection, folder_id: uuid.UUID
) -> AsyncIterator[list[tuple[str, KnownRow]]]:
    """Every row of a folder, deleted ones too, as ``(os path, row)`` in partitions.

    One query, read through the driver itself: at 100k rows, SQLAlchemy's result rows cost
    as much again as the query, and they would be built on the event loop. On SQLite the
    rows are fetched in aiosqlite's thread; on PostgreSQL a cursor hands them over in
    partitions, so decoding never holds the loop for long. ``database_connection`` must not
    be in a transaction (a plain ``engine.connect()``). Driver errors come out as domain
    errors (``translate_error``), as they would through ``Database.session``.
    """
    try:
        raw = (await database_connection.get_raw_connection()).driver_connection
        assert raw is not None
        if database_connection.dialect.name == "postgresql":
            sql = f"SELECT {_KNOWN_COLUMNS} FROM files WHERE folder_id = $1"
            async with raw.transaction(readonly=True):
                cursor = await raw.cursor(sql, folder_id)
                while rows := await cursor.fetch(LOAD_PARTITION):
                    yield _known_rows(rows)
            return
        cursor = await raw.execute(await _sqlite_known_query(raw, folder_id), (folder_id.hex,))
        try:
            while rows := await cursor.fetchmany(LOAD_PARTITION):
                yield _known_rows(rows)
        finally:
            await cursor.close()
    except Exception as error:
        _raise_translated(error)


async def _sqlite_known_query(raw: Any, folder_id: uuid.UUID) -> str:
    """Read the whole table straight through when the folder holds most of it: visiting
    each row from the folder index took twice as long (100k rows: 0.35 s against 0.18 s).
    SQLite has no statistics to choose this itself (the library is never ANALYZEd)."""
    cursor = await raw.execute(
        "SELECT (SELECT count(*) FROM files WHERE folder_id = ?), (SELECT count(*) FROM files)",
        (folder_id.hex,),
    )
    in_folder, in_library = await cursor.fetchone()
    await cursor.close()
    table = "files NOT INDEXED" if in_folder * 2 > in_library else "files"
    return f"SELECT {_KNOWN_COLUMNS} FROM {table} WHERE folder_id = ?"


def _raise_translated(error: Exception) -> NoReturn:
    """Driver errors met outside SQLAlchemy become domain errors; others go on unchanged.
    asyncpg's errors share no base class; like ``db.errors``, we know them by module."""
    driver = isinstance(error, SQLAlchemyError | OSError | sqlite3.Error)
    if driver or type(error).__module__.startswith("asyncpg"):
        raise translate_error(error) from error
    raise error


def _known_rows(rows: Sequence[Any]) -> list[tuple[str, KnownRow]]:
    make = tuple.__new__  # KnownRow's own __new__ is a Python call per row: 3x slower
    return [
        (row[0] if row[1] is None else from_stored(row[0], row[1]), make(KnownRow, row[2:]))
        for row in rows
    ]


async def ensure_folder(
    session: AsyncSession,
    path: str,
    *,
    follow_symlinks: bool = False,
    excludes: Sequence[str] = (),
) -> Folder:
    """The folder row for an absolute OS path, created when it is not registered yet."""
    stored, raw = to_stored(path)
    found = await session.scalar(select(Folder).where(Folder.path == stored))
    if found is not None:
        return found
    folder = Folder(path=stored, raw_path=raw, follow_symlinks=follow_symlinks)
    folder.excludes = "\n".join(excludes)
    session.add(folder)
    await session.flush()
    return folder


async def nested_folders(session: AsyncSession, folder: Folder) -> list[str]:
    """OS paths of other registered folders inside ``folder`` (they index themselves)."""
    rows = (await session.execute(select(Folder.path, Folder.raw_path, Folder.id))).all()
    root = from_stored(folder.path, folder.raw_path).rstrip("/") + "/"
    paths = (from_stored(text_, raw) for text_, raw, folder_id in rows if folder_id != folder.id)
    return [path for path in paths if path.startswith(root)]


async def folder_has_files(session: AsyncSession, folder_id: uuid.UUID) -> bool:
    """Whether any row, deleted or not, is the folder's (if not, its scan is a first one)."""
    found = await session.scalar(select(File.id).where(File.folder_id == folder_id).limit(1))
    return found is not None


async def count_files(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT count(*) FROM files")) or 0)


async def existing_ids(session: AsyncSession, ids: Sequence[Any]) -> set[Any]:
    """Which of these driver ids are rows (after an insert skipped some on conflict)."""
    found: set[Any] = set()
    for start in range(0, len(ids), 5_000):
        chunk = [RowCodec.as_uuid(value) for value in ids[start : start + 5_000]]
        rows = await session.execute(select(File.id).where(File.id.in_(chunk)))
        found.update(row[0] for row in rows)
    return found


# --- writing ---------------------------------------------------------------------------------


async def insert_files(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert new rows (``RowCodec.insert_row``); returns how many. A path already in the
    library is skipped: another registered folder indexes it (nested folders).

    PostgreSQL: binary COPY, measured 1.35 s per 100k rows against 2.3 s for the same
    rows through ``unnest``. COPY has no ON CONFLICT and is refused under row-level
    security (a team library), so it runs in a savepoint, and a batch it cannot take is
    inserted again the slower, conflict-safe way.
    """
    if not rows:
        return 0
    names = ", ".join(name for name, _ in INSERT_COLUMNS)
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" * len(INSERT_COLUMNS))
        sql = f"INSERT INTO files ({names}) VALUES ({marks}) ON CONFLICT (file_path) DO NOTHING"
        return max((await connection.exec_driver_sql(sql, list(rows))).rowcount, 0)
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    # Through SQLAlchemy: it starts the transaction, and a dead connection fails here with
    # the error (and the pool invalidation) every other statement would get.
    await connection.exec_driver_sql("SAVEPOINT filemeta_copy")
    try:
        columns = [name for name, _ in INSERT_COLUMNS]
        await raw.copy_records_to_table("files", records=rows, columns=columns)
    except Exception as error:
        if raw.is_closed():  # asyncpg's own errors then vary: "another operation", …
            raise ConnectionLostError(
                "The connection to the database was lost during a write; try again."
            ) from error
        if getattr(error, "sqlstate", None) is None:
            _raise_translated(error)  # not the server refusing: a bug or the driver
        await connection.exec_driver_sql("ROLLBACK TO SAVEPOINT filemeta_copy")
    else:
        await connection.exec_driver_sql("RELEASE SAVEPOINT filemeta_copy")
        return len(rows)
    arrays = ", ".join(f"${n}::{kind}[]" for n, (_, kind) in enumerate(INSERT_COLUMNS, 1))
    sql = f"INSERT INTO files ({names}) SELECT * FROM unnest({arrays}) "
    sql += "ON CONFLICT (file_path) DO NOTHING"
    return max((await connection.exec_driver_sql(sql, _columns(rows))).rowcount, 0)


def _columns(rows: Sequence[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    return tuple(list(column) for column in zip(*rows, strict=True))


# A batch is a few thousand rows of a table that may hold a hundred thousand: the planner
# would hash the whole table to join them (34 ms a batch at 100k rows, every batch) where
# looking each row up by its primary key takes a fraction of that.
_BY_KEY = (
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)
_ANY_JOIN = (
    "SELECT set_config(name, reset_val, true) FROM pg_settings "
    "WHERE name IN ('enable_hashjoin', 'enable_mergejoin')"
)


class _BatchUpdate:
    """``UPDATE files SET <assign> WHERE id = ...`` for a batch of ``(id, *fields)`` rows;
    ``{name}`` in ``assign`` becomes ``v.name`` (PostgreSQL, from ``unnest`` of the
    ``(name, type)`` fields) or ``?`` (SQLite, rows reordered to put the id last)."""

    def __init__(self, assign: str, fields: Sequence[tuple[str, str]], where: str = "") -> None:
        names = [name for name, _ in fields]
        arrays = ", ".join(
            f"${n}::{kind}[]" for n, kind in enumerate(["uuid", *(k for _, k in fields)], 1)
        )
        self.postgresql = (
            f"UPDATE files AS f SET {assign.format(**{n: f'v.{n}' for n in names})} "
            f"FROM unnest({arrays}) AS v({', '.join(['row_id', *names])}) "
            f"WHERE f.id = v.row_id{where}"
        )
        order = sorted(names, key=lambda n: assign.index("{" + n + "}"))
        self.sqlite = f"UPDATE files SET {assign.format(**dict.fromkeys(names, '?'))} "
        self.sqlite += f"WHERE id = ?{where}"
        self.order = [names.index(n) + 1 for n in order]

    async def run(self, session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql(_BY_KEY)
            result = await connection.exec_driver_sql(self.postgresql, _columns(rows))
            await connection.exec_driver_sql(_ANY_JOIN)
        else:
            shaped = await asyncio.to_thread(self._shape, rows)  # 20k rows: not on the loop
            result = await connection.exec_driver_sql(self.sqlite, shaped)
        return max(result.rowcount, 0)

    def _shape(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        shaped = [(*(row[i] for i in self.order), row[0]) for row in rows]
        shaped.sort(key=lambda row: row[-1])  # in key order: fewer pages touched
        return shaped


_STATS = (("v_size", "int8"), ("v_mtime", "int8"), ("v_type", "text"))
_INODE = (("v_inode", "int8"), ("v_device", "int8"))
_CHANGED = _BatchUpdate(
    "file_size = {v_size}, mtime_ns = {v_mtime}, content_type = {v_type}, inode = {v_inode}, "
    "device = {v_device}, hash_value = NULL, thumbnail_path = NULL, deleted_at = NULL, "
    "version = version + 1",
    (*_STATS, *_INODE),
)
_MOVED = _BatchUpdate(
    "file_path = {v_path}, raw_path = {v_raw}, filename = {v_name}, extension = {v_ext}, "
    "file_size = {v_size}, mtime_ns = {v_mtime}, content_type = {v_type}, inode = {v_inode}, "
    "device = {v_device}, deleted_at = NULL, version = version + 1",
    (("v_path", "text"), ("v_raw", "bytea"), ("v_name", "text"), ("v_ext", "text"),
     *_STATS, *_INODE),
)  # fmt: skip
_HASHED = _BatchUpdate(
    "hash_value = {v_hash}, file_size = {v_size}, mtime_ns = {v_mtime}",
    (("v_hash", "text"), ("v_size", "int8"), ("v_mtime", "int8")),
)
_HASH_ONLY = _BatchUpdate("hash_value = {v_hash}", (("v_hash", "text"),))
_THUMBNAILS = _BatchUpdate("thumbnail_path = {v_thumb}", (("v_thumb", "text"),))
_RESTORED = _BatchUpdate("deleted_at = NULL, version = version + 1", ())
_DELETED = _BatchUpdate(
    "deleted_at = {v_when}, version = version + 1",
    (("v_when", "timestamptz"),),
    " AND deleted_at IS NULL",
)


async def update_changed(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> int:
    """New stats for changed (or restored and changed) files: ``(id, size, mtime_ns,
    content_type, inode, device)`` (``signed64``). Hash and thumbnail are cleared."""
    return await _CHANGED.run(session, rows)


async def apply_moves(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> int:
    """Give existing rows their new path: ``(id, path, raw_path, filename, extension, size,
    mtime_ns, content_type, inode, device)``, numbers ``signed64``. Id, hash, tags and
    permissions stay."""
    return await _MOVED.run(session, rows)


async def set_hashes(session: AsyncSession, rows: Sequence[tuple[Any, str, int, int]]) -> int:
    """``(id, sha256 hex, size, mtime_ns)``: size and mtime as they were when hashed."""
    return await _HASHED.run(session, rows)


async def set_hash_values(session: AsyncSession, rows: Sequence[tuple[Any, str]]) -> int:
    """``(id, sha256 hex)`` for rows whose size and mtime are still those hashed. Cheaper
    than ``set_hashes``: SQLite maintains every index holding a column an UPDATE sets,
    changed or not (100k rows with the hash indexes dropped: 0.37 s against 1.56 s)."""
    return await _HASH_ONLY.run(session, rows)


async def set_thumbnails(session: AsyncSession, rows: Sequence[tuple[Any, str]]) -> int:
    return await _THUMBNAILS.run(session, rows)


async def restore(session: AsyncSession, ids: Sequence[Any]) -> int:
    """Un-delete rows whose path is back with the same size and mtime."""
    return await _RESTORED.run(session, [(row_id,) for row_id in ids])


async def soft_delete(session: AsyncSession, ids: Sequence[Any], when: Any) -> int:
    """Mark rows deleted at ``when`` (driver form, ``RowCodec.driver_time``)."""
    return await _DELETED.run(session, [(row_id, when) for row_id in ids])


async def finish_folder(session: AsyncSession, folder_id: uuid.UUID, when: datetime) -> None:
    await session.execute(update(Folder).where(Folder.id == folder_id).values(last_scan_at=when))
