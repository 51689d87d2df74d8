"""Schema migrations on open, through the connection the app already has.

Alembic's commands are synchronous; we run them inside ``AsyncConnection.run_sync`` and
hand Alembic that connection (``config.attributes["connection"]``), so migrating never
starts a second event loop inside the running one (DESIGN.md traps).

Alembic is imported only when it is needed: a library already at ``HEAD`` is recognised
by reading ``alembic_version`` directly. Importing Alembic and reading the migration
scripts took 0.16 s of the command line's 0.85 s start, on every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from filemeta_gui.db.engine import SQLITE_NO_TRANSACTION, Database
from filemeta_gui.db.errors import translate_error
from filemeta_gui.domain.errors import (
    FileMetaError,
    NotAFileMetaDatabaseError,
    SchemaTooNewError,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
# Any 64-bit number shared by every FileMeta client: two clients never migrate at once.
MIGRATION_LOCK_KEY = 0x46494C454D455441  # "FILEMETA"
HEAD = "0010"
"""The newest revision in ``migrations/versions`` (a test checks it is Alembic's head)."""

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    head: str
    known: bool
    """False when ``current`` is a revision this code has never heard of (a newer app)."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def _read_state(connection: Connection) -> SchemaState:
    if _stored_revision(connection) == HEAD:  # the usual case, without Alembic
        return SchemaState(current=HEAD, head=HEAD, known=True)
    from alembic.runtime.migration import MigrationContext

    script = script_directory()
    head = script.get_current_head() or ""
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        foreign = set(inspect(connection).get_table_names()) - {"alembic_version"}
        if foreign and "files" not in foreign:
            raise NotAFileMetaDatabaseError(
                "This database holds other tables and is not a FileMeta library "
                f"({', '.join(sorted(foreign)[:5])}…)."
            )
    known = current is None or _is_known(script, current)
    return SchemaState(current=current, head=head, known=known)


def _stored_revision(connection: Connection) -> str | None:
    """The one revision ``alembic_version`` holds, or None (no table, none or several)."""
    if connection.dialect.name == "sqlite":
        probe = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    else:
        probe = "SELECT 1 WHERE to_regclass('alembic_version') IS NOT NULL"
    if connection.execute(text(probe)).first() is None:
        return None
    found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(found[0][0]) if len(found) == 1 else None


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:
        return False


async def schema_state(database: Database) -> SchemaState:
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(_read_state)
    except FileMetaError:
        raise
    except Exception as error:
        raise translate_error(error) from error


def _too_new(state: SchemaState) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"This library was upgraded by a newer FileMeta (schema {state.current}); this "
        f"version knows schema {state.head} at most. Install a newer FileMeta to open it."
    )


def read_only_message(state: SchemaState) -> str:
    """Why a library with a newer schema is open read-only, and what would lift it."""
    return (
        f"This library was upgraded by a newer FileMeta (schema {state.current}); this "
        f"version knows schema {state.head} at most, so it is open read-only. Install a "
        f"FileMeta that knows schema {state.current} to make changes."
    )


async def upgrade_on_open(database: Database, *, allow_newer_schema: bool = False) -> SchemaState:
    """Bring the schema to head, backing a SQLite file up first.

    A schema newer than this code knows is refused (``SchemaTooNewError``), or with
    ``allow_newer_schema`` left alone and the database put in read-only mode: an older
    client can still browse what a newer one wrote, but must not write rows the newer
    schema may expect in another shape.
    """
    state = await schema_state(database)
    if not state.known:
        if not allow_newer_schema:
            raise _too_new(state)
        await database.enter_read_only(read_only_message(state))
        return state
    if state.up_to_date:
        return state
    if database.is_sqlite and state.current is not None:
        await backup_sqlite(database)
    await run_command(database, "upgrade", "head")
    return await schema_state(database)


async def backup_sqlite(database: Database) -> Path:
    """Copy the library to ``<name>.<UTC timestamp>.bak`` beside it, consistently.

    ``VACUUM INTO`` writes a transactionally consistent copy even while WAL is in use,
    which a plain file copy would not.
    """
    source = database.sqlite_path
    assert source is not None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = source.with_name(f"{source.name}.{stamp}.bak")
    async with database.engine.connect() as connection:
        # VACUUM refuses to run inside a transaction, which every connection otherwise opens.
        plain = await connection.execution_options(**SQLITE_NO_TRANSACTION)
        await plain.exec_driver_sql(f"VACUUM INTO '{_sql_literal(str(target))}'")
    return target


def _sql_literal(value: str) -> str:
    return value.replace("'", "''")


async def run_command(database: Database, name: str, *args: str) -> None:
    """Run ``alembic <name> <args>`` (upgrade/downgrade) on the app's own connection."""

    def _run(connection: Connection) -> None:
        from alembic import command

        if not database.is_sqlite:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, name)(config, *args)

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(_run)
    except FileMetaError:
        raise
    except Exception as error:
        raise translate_error(error) from error


def history() -> list[tuple[str, str | None, str]]:
    """``(revision, down_revision, message)`` from base to head."""
    rows = []
    for script in script_directory().walk_revisions():
        down = script.down_revision if isinstance(script.down_revision, str | None) else None
        rows.append((script.revision, down, script.doc or ""))
    return list(reversed(rows))
