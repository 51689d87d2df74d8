"""Alembic environment for FileMeta: command line, inside the running app, and offline.

* Inside the app (and ``filemeta db``), ``filemeta_gui.db.migrate`` hands us a live
  synchronous connection in ``config.attributes["connection"]`` (Alembic's
  connection-sharing recipe): no second engine, no nested ``asyncio.run``.
* From the command line, we build an async engine from FILEMETA_DATABASE_URL,
  ``-x url=...``, ``sqlalchemy.url`` or the default library, and drive it with asyncio.
* ``alembic upgrade head --sql`` renders the SQL without connecting.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from filemeta_gui.config import ENV_DATABASE_URL, default_database_url
from filemeta_gui.db.models import Base
from filemeta_gui.db.schema_filter import include_object_for
from filemeta_gui.db.url import parse_database_url

config = context.config
target_metadata = Base.metadata


def _url_text() -> str:
    return (
        os.environ.get(ENV_DATABASE_URL)
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or default_database_url()
    )


def _configure(dialect: str, connection: Connection | None = None, **kwargs: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object_for(dialect),
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
        compare_type=True,
        **kwargs,  # type: ignore[arg-type]
    )


def run_migrations_offline() -> None:
    url, backend = parse_database_url(_url_text())
    _configure(backend.value, url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection.dialect.name, connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url, _ = parse_database_url(_url_text())
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        _run_sync(shared)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
