"""``unindexed(column)``: the column, with SQLite told not to look it up through an index.

SQLite's planner has no statistics in a FileMeta library (nothing runs ANALYZE), so given
``ORDER BY filename LIMIT 201`` and a filter such as ``content_type >= 'image/'`` it reads
the whole filter range through the filter's index and sorts it — 384k rows at 1M files —
instead of walking the sort index and stopping after 201 matches. Writing the column as
``+content_type`` (SQLite's documented no-op that disables index use, keeping the column's
collation) leaves the sort index as the only way in. ``repositories.search_plan`` decides
which conditions keep their index; on other backends this renders the plain column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class Unindexed(ColumnElement[Any]):
    """A column reference SQLite may not serve from an index (rendered ``+column``)."""

    inherit_cache = True
    # The cache key of a statement includes the column (SQLAlchemy's visitor protocol).
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type

    @property
    def _from_objects(self) -> list[Any]:
        return self.column._from_objects


def unindexed(column: Any) -> ColumnElement[Any]:
    """``column`` (an ORM attribute or a Core column) that SQLite must not use an index for."""
    element = column.expression if hasattr(column, "expression") else column
    return Unindexed(element)


@compiles(Unindexed)
def _plain(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _no_index(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)
