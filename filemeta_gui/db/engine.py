"""``Database``: the one owner of the async engine, its sessions and its pool."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import await_only

from filemeta_gui.config import default_database_url
from filemeta_gui.db import sqlite_cursor
from filemeta_gui.db.errors import is_write_refused, translate_error
from filemeta_gui.db.monitored_pool import MonitoredQueuePool
from filemeta_gui.db.monitoring import DEFAULT_SLOW_QUERY_MS, QueryMonitor
from filemeta_gui.db.url import describe, parse_database_url
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.errors import DatabaseUnavailableError, FileMetaError, ReadOnlyError
from filemeta_gui.domain.records import PoolStatus

POOL_SIZE = 20
MAX_OVERFLOW = 30
SQLITE_BUSY_TIMEOUT_MS = 15_000
APPLICATION_NAME = "filemeta"

# Options carried on a session's connection so the SQLite "begin" hook can take the write
# lock up front: a deferred transaction that later needs to write can fail at once with
# "database is locked" when another process writes, whatever busy_timeout says.
_BEGIN_OPTION = "filemeta_sqlite_begin"
# Execution options for a SQLite connection that must run outside any transaction
# (``VACUUM INTO`` refuses to run inside one): the "begin" hook then emits nothing.
SQLITE_NO_TRANSACTION: dict[str, Any] = {_BEGIN_OPTION: ""}


class Database:
    """Owns the engine, the session factory and the pool of one library.

    Build it with :meth:`open` (connects, checks and migrates) or the constructor (lazy,
    nothing is touched until first use). Always ``await dispose()`` when done.

    ``monitor`` (a :class:`~filemeta_gui.db.monitoring.QueryMonitor`) watches every query
    and the pool from construction on; ``monitoring=False`` leaves it detached.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        application_name: str = APPLICATION_NAME,
        echo: bool = False,
        slow_query_ms: float = DEFAULT_SLOW_QUERY_MS,
        monitoring: bool = True,
        pool_size: int | None = None,
        max_overflow: int | None = None,
    ) -> None:
        self.url, self.backend = parse_database_url(url or default_database_url())
        self.application_name = application_name
        self.engine: AsyncEngine = _create_engine(
            self.url, self.backend, application_name, echo, pool_size, max_overflow
        )
        self.read_only_reason: str | None = None
        """Why this library is open read-only (None: it is writable)."""
        self.reached = False
        """A connection to the server has been opened once: failing to reach it from now
        on is a lost connection (the window's banner retries), not a wrong address."""
        event.listen(self.engine.sync_engine, "connect", self._note_reached)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.monitor = QueryMonitor(slow_query_ms=slow_query_ms)
        if monitoring:
            self.monitor.attach(self.engine)

    @classmethod
    async def open(
        cls,
        url: str | None = None,
        *,
        upgrade: bool = True,
        allow_newer_schema: bool = False,
        **kwargs: Any,
    ) -> Database:
        """Connect, check the schema and (by default) migrate it to the newest revision.

        Args:
            allow_newer_schema: open a library migrated by a newer FileMeta read-only
                (``read_only`` is then True and ``read_only_reason`` says which schema
                is needed) instead of raising ``SchemaTooNewError``.

        Raises:
            ConfigurationError: the URL is malformed or names an unknown driver.
            DatabaseUnavailableError: the server or file cannot be reached or written.
            SchemaTooNewError: the database was migrated by a newer FileMeta.
        """
        database = cls(url, **kwargs)
        try:
            database.check_sqlite_folder()
            await database.ping()
            if upgrade:
                from filemeta_gui.db.migrate import upgrade_on_open

                await upgrade_on_open(database, allow_newer_schema=allow_newer_schema)
        except BaseException:
            await database.dispose()
            raise
        return database

    @property
    def name(self) -> str:
        """The URL with its password hidden, for titles and messages."""
        return describe(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.backend is Backend.SQLITE

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    async def enter_read_only(self, reason: str) -> None:
        """From now on refuse every write, with ``reason`` as the message.

        Write sessions are refused before they start; a write slipped into a read session
        is refused by the database itself (PostgreSQL ``default_transaction_read_only``,
        SQLite ``query_only``, set on every connection), so nothing can get through.
        """
        if self.read_only:
            return
        self.read_only_reason = reason
        _install_read_only_hook(self.engine, self.backend)
        # Connections already in the pool were opened writable: replace them.
        await self.engine.dispose()

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database or "") if self.is_sqlite else None

    def check_sqlite_folder(self) -> None:
        path = self.sqlite_path
        if path is None:
            return
        folder = path.parent
        if not folder.is_dir():
            raise DatabaseUnavailableError(
                f"Cannot create {path}: the folder {folder} does not exist."
            )
        if not path.exists() and not _can_create_files_in(folder):
            raise DatabaseUnavailableError(
                f"Cannot create {path}: the folder {folder} is read-only."
            )

    async def ping(self) -> None:
        """Open one connection and run ``SELECT 1``; raises a domain error if that fails."""
        async with self.session() as session:
            await session.execute(text("SELECT 1"))

    @asynccontextmanager
    async def session(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block succeeds, rolls back when it raises.

        Args:
            write: on SQLite, take the write lock when the transaction begins
                (``BEGIN IMMEDIATE``) so concurrent writers wait instead of failing.
        """
        if write and self.read_only:
            raise ReadOnlyError(self.read_only_reason or "This library is open read-only.")
        try:
            async with self.sessionmaker() as session, session.begin():
                if write and self.is_sqlite:
                    # The first connection a session procures begins its transaction;
                    # the option travels with it to the "begin" hook below.
                    await session.connection(execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                yield session
        except FileMetaError:
            raise
        except (SQLAlchemyError, OSError) as error:
            if self.read_only and is_write_refused(error):
                raise ReadOnlyError(self.read_only_reason or "") from error
            established = self.reached and not self.is_sqlite
            raise translate_error(error, self._target(), established=established) from error

    def pool_status(self) -> PoolStatus:
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            return PoolStatus(
                size=pool.size(),
                checked_out=pool.checkedout(),
                checked_in=pool.checkedin(),
                # QueuePool counts overflow from -pool_size until the pool is full.
                overflow=max(pool.overflow(), 0),
                max_overflow=pool._max_overflow,
            )
        return PoolStatus(size=0, checked_out=0, checked_in=0, overflow=0)

    async def dispose(self) -> None:
        await self.engine.dispose()

    def _note_reached(self, _dbapi_connection: Any, _record: Any) -> None:
        self.reached = True

    def _target(self) -> str:
        if self.is_sqlite:
            return f"the library file {self.sqlite_path}"
        return f"the database {self.url.database!r} on {self.url.host or 'localhost'}"


def _can_create_files_in(folder: Path) -> bool:
    # Try it rather than ask os.access: for root, access() says yes to folders that still
    # refuse new files (procfs, some network and FUSE mounts). Failing here also spares
    # aiosqlite a failed connect, whose worker thread outlives the call.
    if not os.access(folder, os.W_OK):
        return False
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _create_engine(
    url: URL,
    backend: Backend,
    application_name: str,
    echo: bool,
    pool_size: int | None = None,
    max_overflow: int | None = None,
) -> AsyncEngine:
    if backend is Backend.POSTGRESQL:
        engine = create_async_engine(
            url,
            echo=echo,
            poolclass=MonitoredQueuePool,  # an AsyncAdaptedQueuePool that times checkouts
            # Smaller pools are for many clients in one process (benchmarks/bench_load.py).
            pool_size=POOL_SIZE if pool_size is None else pool_size,
            max_overflow=MAX_OVERFLOW if max_overflow is None else max_overflow,
            pool_pre_ping=True,
            pool_timeout=30,
            connect_args={
                "timeout": 10,
                "server_settings": {
                    # Generic plans ignore the trigram index after 5 runs (DESIGN.md traps).
                    "plan_cache_mode": "force_custom_plan",
                    "application_name": application_name,
                },
            },
        )
    else:
        engine = create_async_engine(
            url,
            echo=echo,
            poolclass=MonitoredQueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The connection here is aiosqlite's adapter, not sqlite3.Connection: no isinstance
        # guard, or every pragma would be skipped silently (DESIGN.md traps).
        sqlite_cursor.install(dbapi_connection)  # one trip to its thread per statement
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _error: Any) -> None:
        # A cancelled task invalidates its connection, and closing it would wait behind
        # the statement still running in aiosqlite's thread: SQLite does not stop when the
        # task does. A window refreshing during a big load piled such queries up (nine at
        # once, seconds each). ``interrupt`` is safe from any thread and makes the running
        # statement fail now; the connection is being discarded anyway.
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is None:
            return
        interrupting = driver.interrupt()  # aiosqlite: a coroutine that never waits
        try:
            await_only(interrupting)
        except Exception:  # outside SQLAlchemy's greenlet (a plain dispose): nothing runs
            interrupting.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        statement = connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN")
        if statement:
            connection.exec_driver_sql(statement)


def _install_read_only_hook(engine: AsyncEngine, backend: Backend) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _read_only(dbapi_connection: Any, _record: Any) -> None:
        if backend is Backend.SQLITE:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()
            return
        # Straight on the asyncpg connection, outside any transaction: a SET inside the
        # adapter's implicit transaction would be undone by the rollback that ends it.
        dbapi_connection.run_async(
            lambda raw: raw.execute("SET default_transaction_read_only = on")
        )
