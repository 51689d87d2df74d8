"""Which database objects Alembic's autogenerate compares against the models.

Search indexes (SQLite FTS5 tables and their shadow tables, PostgreSQL trigram indexes)
are created by hand-written migration steps and have no model; comparing them would
report a false drift.
"""

from __future__ import annotations

from typing import Any

UNMODELLED_PREFIXES = ("files_fts", "ix_files_trgm_")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name and name.startswith(UNMODELLED_PREFIXES))
