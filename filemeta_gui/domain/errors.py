"""Every error FileMeta shows a person is one of these, with a message in plain words.

Lower layers translate driver and OS exceptions into these classes so the UI and the
command line never have to know about SQLAlchemy, asyncpg or errno values.
"""

from __future__ import annotations


class FileMetaError(Exception):
    """Base class: ``str(error)`` is a complete sentence fit for a dialog or a CLI line."""


class ConfigurationError(FileMetaError):
    """A setting (database URL, path, option) is malformed or names something unsupported."""


class DatabaseUnavailableError(FileMetaError):
    """The database cannot be reached: host down, wrong credentials, unwritable file."""


class ConnectionLostError(DatabaseUnavailableError):
    """An established connection dropped in the middle of an operation."""


class SchemaError(FileMetaError):
    """The database schema does not match this version of FileMeta."""


class SchemaTooNewError(SchemaError):
    """The database was migrated by a newer FileMeta than this one."""


class ReadOnlyError(SchemaError):
    """The library is open read-only (its schema is newer than this FileMeta knows)."""


class NotAFileMetaDatabaseError(SchemaError):
    """The database exists but holds tables FileMeta did not create."""


class NotFoundError(FileMetaError):
    """A file, tag, user or folder named by the caller does not exist."""


class ConflictError(FileMetaError):
    """The change would break a rule of the data: a duplicate, a dangling reference."""


class ValidationError(FileMetaError):
    """A value given by the caller is not acceptable (an address, a size, a name)."""


class PermissionDeniedError(FileMetaError):
    """The current user may not do this."""


class StaleDataError(ConflictError):
    """Someone else changed the record since it was read."""


class QuerySyntaxError(ValidationError):
    """A search query could not be parsed.

    Attributes:
        position: character offset of the problem in the query, for a hint under the box.
    """

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message)
        self.position = position
