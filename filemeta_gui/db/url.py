"""Turning what a person types into an async SQLAlchemy URL, with plain-words errors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.errors import ConfigurationError

_DRIVERS = {
    "sqlite": ("sqlite+aiosqlite", Backend.SQLITE),
    "sqlite+aiosqlite": ("sqlite+aiosqlite", Backend.SQLITE),
    "postgresql": ("postgresql+asyncpg", Backend.POSTGRESQL),
    "postgres": ("postgresql+asyncpg", Backend.POSTGRESQL),
    "postgresql+asyncpg": ("postgresql+asyncpg", Backend.POSTGRESQL),
}


def parse_database_url(text: str) -> tuple[URL, Backend]:
    """Map ``sqlite:///`` to aiosqlite and ``postgresql://`` to asyncpg.

    Raises:
        ConfigurationError: the text is not a URL, or names a driver FileMeta cannot use.
    """
    text = text.strip()
    if "://" not in text:
        raise ConfigurationError(
            f"The setting {text!r} is not a database URL: use sqlite:///path/to/file.sqlite3 "
            "or postgresql://user@host:port/database."
        )
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"The database URL {_redact(text)!r} is malformed: {exc}") from exc
    try:
        drivername, backend = _DRIVERS[url.drivername]
    except KeyError:
        known = "sqlite, postgresql"
        raise ConfigurationError(
            f"Unknown database driver {url.drivername!r}: FileMeta speaks {known}."
        ) from None
    url = url.set(drivername=drivername)
    if backend is Backend.SQLITE:
        if not url.database or url.database == ":memory:":
            raise ConfigurationError(
                "A SQLite library needs a file: sqlite:///path/to/library.sqlite3."
            )
        url = url.set(database=str(Path(url.database).expanduser()))
    elif not url.database:
        raise ConfigurationError(f"The PostgreSQL URL {_redact(text)!r} names no database.")
    return url, backend


def describe(url: URL) -> str:
    """A URL safe to show: the password hidden."""
    return url.render_as_string(hide_password=True)


def _redact(text: str) -> str:
    try:
        return make_url(text).render_as_string(hide_password=True)
    except Exception:
        return text
