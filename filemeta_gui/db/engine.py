"""``Database``: the one owner of the async engine, its sessions and its pool."""

from __future__ import annotations

import os
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
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool

from filemeta_gui.config import default_database_url
from filemeta_gui.db.errors import translate_error
from filemeta_gui.db.url import describe, parse_database_url
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.errors import DatabaseUnavailableError, FileMetaError
from filemeta_gui.domain.records import PoolStatus

POOL_SIZE = 20
MAX_OVERFLOW = 30
SQLITE_BUSY_TIMEOUT_MS = 15_000
APPLICATION_NAME = "filemeta"

# Options carried on a session's connection so the SQLite "begin" hook can take the write
# lock up front: a deferred transaction that later needs to write can fail at once with
# "database is locked" when another process writes, whatever busy_timeout says.
_BEGIN_OPTION = "filemeta_sqlite_begin"


class Database:
    """Owns the engine, the session factory and the pool of one library.

    Build it with :meth:`open` (connects, checks and migrates) or the constructor (lazy,
    nothing is touched until first use). Always ``await dispose()`` when done.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        application_name: str = APPLICATION_NAME,
        echo: bool = False,
    ) -> None:
        self.url, self.backend = parse_database_url(url or default_database_url())
        self.application_name = application_name
        self.engine: AsyncEngine = _create_engine(self.url, self.backend, application_name, echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    async def open(cls, url: str | None = None, *, upgrade: bool = True, **kwargs: Any) -> Database:
        """Connect, check the schema and (by default) migrate it to the newest revision.

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

                await upgrade_on_open(database)
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
        if not path.exists() and not os.access(folder, os.W_OK):
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
        try:
            async with self.sessionmaker() as session:
                async with session.begin():
                    if write and self.is_sqlite:
                        # The first connection a session procures begins its transaction;
                        # the option travels with it to the "begin" hook below.
                        await session.connection(
                            execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"}
                        )
                    yield session
        except FileMetaError:
            raise
        except (SQLAlchemyError, OSError) as error:
            raise translate_error(error, self._target()) from error

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

    def _target(self) -> str:
        if self.is_sqlite:
            return f"the library file {self.sqlite_path}"
        return f"the database {self.url.database!r} on {self.url.host or 'localhost'}"


def _create_engine(url: URL, backend: Backend, application_name: str, echo: bool) -> AsyncEngine:
    if backend is Backend.POSTGRESQL:
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
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
            poolclass=AsyncAdaptedQueuePool,
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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))
