"""Which database objects Alembic's autogenerate compares against the models.

Search indexes (SQLite FTS5 tables and their shadow tables, PostgreSQL trigram indexes)
are created by hand-written migration steps and have no model; comparing them would
report a false drift. A model index made on one backend only (``ONLY_ON``) is not missing
on the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

UNMODELLED_PREFIXES = ("files_fts", "ix_files_trgm_")
ONLY_ON = "only_on"
"""Key of ``Index.info``: the one backend (dialect name) the index is created on."""

IncludeObject = Callable[[Any, str | None, str, bool, Any], bool]


def made_on(obj: Any, dialect: str) -> bool:
    """Is the model object ``obj`` created on ``dialect``?"""
    return getattr(obj, "info", {}).get(ONLY_ON, dialect) == dialect


def include_object_for(dialect: str) -> IncludeObject:
    """Autogenerate's ``include_object`` for a database of ``dialect``."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if name and name.startswith(UNMODELLED_PREFIXES):
            return False
        return reflected or made_on(obj, dialect)

    return include_object
