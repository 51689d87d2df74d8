"""Translate driver and OS exceptions into FileMeta's domain errors.

SQLAlchemy wraps the driver's exception (``DBAPIError.orig``), whose own ``__cause__`` is
asyncpg's; SQLAlchemy 2.1 additionally wraps some errors in ``StatementError``. We walk the
whole chain and decide on SQLSTATE codes and exception types, never on message text alone.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

from filemeta_gui.domain.errors import (
    ConflictError,
    ConnectionLostError,
    DatabaseUnavailableError,
    FileMetaError,
    PermissionDeniedError,
)

_AUTH_FAILED = {"28P01", "28000"}  # invalid_password, invalid_authorization_specification
_NO_DATABASE = "3D000"
_CONNECTION_CLASS = "08"
_SHUTDOWN = {"57P01", "57P02", "57P03"}  # admin_shutdown, crash_shutdown, cannot_connect_now
_INTEGRITY_CLASS = "23"
_DISK_FULL = "53100"
_INSUFFICIENT_PRIVILEGE = "42501"
_READ_ONLY_TRANSACTION = "25006"
_QUERY_CANCELED = "57014"  # statement_timeout, or pg_cancel_backend


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.append(getattr(item, "orig", None))
        stack.append(item.__cause__)
        stack.append(item.__context__)


def _sqlstate(error: BaseException) -> str | None:
    for item in _chain(error):
        code = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if isinstance(code, str) and code:
            return code
    return None


def query_cancelled(error: BaseException) -> bool:
    """Did PostgreSQL stop the statement (its ``statement_timeout``, or a cancel request)?"""
    return _sqlstate(error) == _QUERY_CANCELED


def translate_error(
    error: BaseException, target: str = "the database", *, established: bool = False
) -> FileMetaError:
    """Return the domain error for ``error`` (``error`` itself if it already is one).

    Args:
        established: ``target`` was reached before. A server that then cannot be reached
            (refused, silent, host gone) is a lost connection that will come back, not a
            wrong address: it becomes :class:`ConnectionLostError`, like a dropped socket.
    """
    # A domain error raised while binding a value (IPAddress, UTCDateTime) reaches us
    # wrapped in StatementError; hand back the original, it already says what is wrong.
    for item in _chain(error):
        if isinstance(item, FileMetaError):
            return item
    state = _sqlstate(error)
    text = _first_line(error)
    if state in _AUTH_FAILED:
        return DatabaseUnavailableError(
            f"Could not log in to {target}: wrong user name or password ({text})."
        )
    if state == _DISK_FULL:
        return DatabaseUnavailableError(
            f"The server's disk is full: {target} cannot store more ({text}). "
            "Nothing was half-written; free space on the server and try again."
        )
    if state == _NO_DATABASE:
        return DatabaseUnavailableError(
            f"{_capitalized(target)} does not exist on that server ({text})."
        )
    if state in _SHUTDOWN or (state or "").startswith(_CONNECTION_CLASS) or _connection_lost(error):
        return ConnectionLostError(
            f"The connection to {target} was lost; try again in a moment ({text})."
        )
    if (state or "").startswith(_INTEGRITY_CLASS) or isinstance(error, sa_exc.IntegrityError):
        return ConflictError(f"The change breaks a rule of the data: {text}")
    if state == _INSUFFICIENT_PRIVILEGE:
        # A missing grant, a row-level security policy, or a check of the server's own
        # (migration 0004): the services check first, so this is the server's last word.
        return PermissionDeniedError(f"The database refused this: {text.rstrip('.')}.")
    for item in _chain(error):
        # DatabaseError, not only OperationalError: "file is not a database" is the former.
        if isinstance(item, sqlite3.DatabaseError):
            return _sqlite_error(item, target)
        if isinstance(item, OSError):
            return _unreachable(item, target, established)
    return FileMetaError(f"The database reported an error: {text}")


def _unreachable(error: OSError, target: str, established: bool) -> DatabaseUnavailableError:
    """The server of ``target`` cannot be reached (``error``: the socket's complaint)."""
    if isinstance(error, socket.gaierror):
        never, again = f"Cannot find the host of {target}: {error}.", "its host cannot be found"
    elif isinstance(error, ConnectionRefusedError | TimeoutError):
        never = f"{_capitalized(target)} is unreachable: nothing answers at that address ({error})."
        again = "nothing answers at that address"
    else:
        never, again = f"{_capitalized(target)} is unreachable: {error}.", "it is unreachable"
    if not established:
        return DatabaseUnavailableError(never)
    return ConnectionLostError(f"The connection to {target} was lost: {again} now ({error}).")


def is_write_refused(error: BaseException) -> bool:
    """True when the database refused a write because the connection is read-only."""
    if _sqlstate(error) == _READ_ONLY_TRANSACTION:
        return True
    return any(
        isinstance(item, sqlite3.OperationalError) and "readonly" in str(item)
        for item in _chain(error)
    )


def _sqlite_error(error: sqlite3.DatabaseError, target: str) -> FileMetaError:
    message = str(error)
    if "unable to open" in message:
        return DatabaseUnavailableError(
            f"Cannot open {target}: its folder is missing or not writable."
        )
    if "readonly" in message:
        return DatabaseUnavailableError(f"Cannot write to {target}: the file is read-only.")
    if "locked" in message:
        return DatabaseUnavailableError(
            f"{_capitalized(target)} is busy in another program; try again."
        )
    if "disk" in message and "full" in message:
        return DatabaseUnavailableError(f"The disk holding {target} is full.")
    if "not a database" in message:
        return DatabaseUnavailableError(f"{_capitalized(target)} is not a SQLite database.")
    return FileMetaError(f"SQLite reported an error: {message}")


def _connection_lost(error: BaseException) -> bool:
    for item in _chain(error):
        if isinstance(item, sa_exc.DBAPIError) and item.connection_invalidated:
            return True
        name = type(item).__name__
        if name in {"ConnectionDoesNotExistError", "InterfaceError"} and "closed" in str(item):
            return True
        if isinstance(item, ConnectionResetError | BrokenPipeError):
            return True
    return False


def _capitalized(target: str) -> str:
    # Messages are sentences; targets ("the database 'x' on host") are written to follow
    # a verb, so one that opens a sentence needs its first letter raised.
    return target[:1].upper() + target[1:]


def _first_line(error: BaseException) -> str:
    for item in _chain(error):
        if not isinstance(item, sa_exc.SQLAlchemyError):
            text = str(item).strip().splitlines()
            if text:
                return text[0]
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
