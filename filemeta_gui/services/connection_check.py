""" "Test connection" for the Connect dialog: reach the database and read its schema
without changing anything (no migration, no file created)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from filemeta_gui.db.engine import Database
from filemeta_gui.db.migrate import HEAD, schema_state
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.errors import SchemaTooNewError


class SchemaVerdict(StrEnum):
    NEW = "new"
    """Nothing there yet: FileMeta will create its tables (or the SQLite file)."""
    CURRENT = "current"
    UPGRADE = "upgrade"
    """An older FileMeta schema: it is upgraded on connect (SQLite: after a backup)."""


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    backend: Backend
    name: str
    """The URL with its password hidden."""
    server_version: str
    verdict: SchemaVerdict
    current_revision: str | None
    head_revision: str

    @property
    def message(self) -> str:
        """One or two sentences for the dialog."""
        where = "the library file" if self.backend is Backend.SQLITE else "the server"
        reached = (
            f"Connected to {where} ({self.server_version})."
            if self.server_version
            else f"The library file can be created at {self.name.split(':///', 1)[-1]}."
        )
        detail = {
            SchemaVerdict.NEW: "It is empty: FileMeta will set up a new library in it.",
            SchemaVerdict.CURRENT: "It is a FileMeta library, up to date.",
            SchemaVerdict.UPGRADE: (
                f"It is a FileMeta library from an older version (schema "
                f"{self.current_revision}); it will be upgraded when you connect."
            ),
        }[self.verdict]
        return f"{reached} {detail}"


async def check_connection(url: str) -> ConnectionReport:
    """Reach ``url``, read its schema revision and say what connecting would do.

    Raises:
        ConfigurationError: the URL is malformed.
        DatabaseUnavailableError: wrong password, unknown host, nothing listening, …
        NotAFileMetaDatabaseError: the database holds someone else's tables.
        SchemaTooNewError: a newer FileMeta migrated it.
    """
    database = Database(url)
    try:
        if database.is_sqlite:
            database.check_sqlite_folder()
            path = database.sqlite_path
            if path is not None and not await asyncio.to_thread(Path(path).exists):
                # Opening would create the file: a test must not leave one behind.
                return await _new_sqlite_report(database)
        await database.ping()  # its errors name the host and database, schema_state's do not
        state = await schema_state(database)
        if not state.known:
            raise SchemaTooNewError(
                f"This library was upgraded by a newer FileMeta (schema {state.current}); "
                f"this version knows schema {state.head} at most. Install a newer FileMeta "
                "to open it."
            )
        info = database.engine.dialect.server_version_info or ()
        product = "SQLite" if database.is_sqlite else "PostgreSQL"
        version = f"{product} {'.'.join(str(part) for part in info)}".strip()
        if state.current is None:
            verdict = SchemaVerdict.NEW
        elif state.up_to_date:
            verdict = SchemaVerdict.CURRENT
        else:
            verdict = SchemaVerdict.UPGRADE
        return ConnectionReport(
            database.backend, database.name, version, verdict, state.current, state.head
        )
    finally:
        await database.dispose()


async def _new_sqlite_report(database: Database) -> ConnectionReport:
    # A new file gets the newest schema this FileMeta knows.
    return ConnectionReport(database.backend, database.name, "", SchemaVerdict.NEW, None, HEAD)
