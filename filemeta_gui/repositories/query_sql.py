"""Compile search queries (``domain.query`` ASTs) into SQLAlchemy conditions on ``File``.

The result is a plain boolean ``ColumnElement`` for ``FileRepository.page(where=...)`` and
friends; it never touches a session. The two backends search text differently, each
through an index (migration 0002):

* SQLite: terms of 3+ characters go to the FTS5 trigram table ``files_fts`` (external
  content keyed on ``files.rowid``) as quoted MATCH phrases. FTS5 trigram cannot match
  shorter terms, so those use ``LIKE ... ESCAPE`` (a full scan; ``LIKE`` never uses FTS).
  AND/OR of several long terms are merged into one MATCH so FTS5 intersects the posting
  lists itself instead of SQLite joining one subquery per word.
* PostgreSQL: ``ILIKE`` with an escaped pattern, served by the ``pg_trgm`` GIN indexes on
  ``filename`` and ``file_path``.

``path:`` globs are case-sensitive: ``GLOB`` on SQLite (a literal start reads a range of the
file_path index; a leading wildcard is narrowed through FTS), ``LIKE`` over the trigram
index on PostgreSQL.

Every leaf is two-valued (never NULL), so ``NOT`` of any condition is its exact complement:
the only nullable column searched, ``hash_value``, is guarded with ``IS NOT NULL``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.elements import ColumnElement

from filemeta_gui.db.models import File, FileTag, Tag
from filemeta_gui.domain.enums import Backend
from filemeta_gui.domain.query import (
    And,
    ExtFilter,
    HashFilter,
    MatchAll,
    ModifiedFilter,
    Node,
    Not,
    Or,
    PathFilter,
    SizeFilter,
    TagFilter,
    Term,
    TypeFilter,
    parse,
)

LIKE_ESCAPE = "\\"
FTS_MIN_CHARS = 3
"""FTS5's trigram tokenizer finds nothing for shorter terms."""

_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ``files`` is a rowid table (its UUID key is not an INTEGER PRIMARY KEY); files_fts is
# keyed on that implicit rowid. Bound to the table so "files" joins the FROM list.
_FILES_ROWID = sa.column("rowid", sa.Integer, _selectable=File.__table__)
_FTS = sa.table("files_fts", sa.column("rowid", sa.Integer))


def search_condition(
    text: str, backend: Backend | str, *, tz: tzinfo | None = None
) -> ColumnElement[bool]:
    """Parse ``text`` and compile it (raises ``QuerySyntaxError`` when malformed)."""
    return compile_query(parse(text), backend, tz=tz)


def compile_query(
    node: Node, backend: Backend | str, *, tz: tzinfo | None = None
) -> ColumnElement[bool]:
    """A condition on ``File`` selecting exactly the files ``node`` describes.

    Args:
        node: a parsed query.
        backend: the dialect the condition will run on.
        tz: the time zone ``modified:`` dates are read in; None for the machine's local
            time (what a person typing a date means).
    """
    return _Compiler(Backend(backend), tz).compile(node)


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards made literal (use with ``escape=LIKE_ESCAPE``)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def glob_to_like(glob: str) -> str:
    """A ``path:`` glob as a LIKE pattern: ``*`` → ``%``, ``?`` → ``_``, the rest literal."""
    return "".join(
        "%" if char == "*" else "_" if char == "?" else escape_like(char) for char in glob
    )


def sqlite_glob(glob: str) -> str:
    """A ``path:`` glob for SQLite's GLOB, where only ``*`` and ``?`` stay wildcards."""
    return glob.replace("[", "[[]")  # "[" would open a character class; "[[]" is one "["


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: inside double quotes every character is literal."""
    return '"' + text.replace('"', '""') + '"'


class _Compiler:
    def __init__(self, backend: Backend, tz: tzinfo | None) -> None:
        self.sqlite = backend is Backend.SQLITE
        self.tz = tz

    def compile(self, node: Node) -> ColumnElement[bool]:
        match node:
            case MatchAll():
                return sa.true()
            case Term(text):
                return self.term(text)
            case And(items):
                return self.conjunction(items)
            case Or(items):
                return self.disjunction(items)
            case Not(item):
                return sa.not_(self.compile(item))
            case TagFilter(name):
                return _tagged(name)
            case TypeFilter():
                return self.content_type(node)
            case ExtFilter(extensions):
                return File.extension.in_(extensions)
            case SizeFilter(minimum, maximum):
                return _between(File.file_size, minimum, maximum)
            case ModifiedFilter(start, end):
                return self.modified(start, end)
            case HashFilter(prefix):
                return self.hash_prefix(prefix)
            case PathFilter(glob):
                return self.path(glob)
        raise TypeError(f"not a query node: {node!r}")

    # --- text -------------------------------------------------------------------------------

    def term(self, text: str) -> ColumnElement[bool]:
        if self.sqlite and len(text) >= FTS_MIN_CHARS:
            return _fts_match(fts_phrase(text))
        pattern = f"%{escape_like(text)}%"
        return sa.or_(self._like(File.filename, pattern), self._like(File.file_path, pattern))

    def path(self, glob: str) -> ColumnElement[bool]:
        # Case-sensitive, as paths are: /data/Photos and /data/photos are two folders.
        if not self.sqlite:
            return File.file_path.like(glob_to_like(glob), escape=LIKE_ESCAPE)
        # GLOB is SQLite's case-sensitive LIKE; a literal start (a folder listing) is read
        # as a range of the unique index on file_path.
        condition = File.file_path.bool_op("GLOB")(sqlite_glob(glob))
        if glob[:1] not in ("*", "?"):
            return condition
        # A leading wildcard defeats that index, but literal runs can narrow the rows
        # through the trigram index first (FTS ignores case, so it never loses a match).
        runs = [run for run in _literal_runs(glob) if len(run) >= FTS_MIN_CHARS]
        if not runs:
            return condition
        expression = " AND ".join(f"file_path : {fts_phrase(run)}" for run in runs)
        return sa.and_(_fts_match(expression), condition)

    def _like(self, column: QueryableAttribute[Any], pattern: str) -> ColumnElement[bool]:
        # Words ignore case. SQLite's LIKE already does (for ASCII); PostgreSQL needs ILIKE.
        if self.sqlite:
            return column.like(pattern, escape=LIKE_ESCAPE)
        return column.ilike(pattern, escape=LIKE_ESCAPE)

    # --- boolean structure ------------------------------------------------------------------

    def conjunction(self, items: tuple[Node, ...]) -> ColumnElement[bool]:
        if not self.sqlite:
            return sa.and_(*(self.compile(item) for item in items))
        wanted: list[str] = []
        excluded: list[tuple[Node, str]] = []
        rest: list[Node] = []
        for item in items:
            if expression := _fts_expression(item):
                wanted.append(expression)
            elif isinstance(item, Not) and (expression := _fts_expression(item.item)):
                excluded.append((item, expression))
            else:
                rest.append(item)
        if not wanted:  # FTS5's NOT is binary ("a NOT b"): it needs something to subtract from
            return sa.and_(*(self.compile(item) for item in rest + [i for i, _ in excluded]))
        expression = " AND ".join(wanted)
        for _, subtracted in excluded:
            expression = f"({expression}) NOT {subtracted}"
        return sa.and_(_fts_match(expression), *(self.compile(item) for item in rest))

    def disjunction(self, items: tuple[Node, ...]) -> ColumnElement[bool]:
        merged = [e for e in map(_fts_expression, items) if e] if self.sqlite else []
        conditions = [
            self.compile(item) for item in items if not (merged and _fts_expression(item))
        ]
        if merged:
            conditions.insert(0, _fts_match(" OR ".join(merged)))
        return sa.or_(*conditions)

    # --- filters ----------------------------------------------------------------------------

    def content_type(self, node: TypeFilter) -> ColumnElement[bool]:
        if not node.prefixes:
            return File.content_type == node.value
        return sa.or_(*(self._prefix(File.content_type, p) for p in node.prefixes))

    def hash_prefix(self, prefix: str) -> ColumnElement[bool]:
        exact = len(prefix) == 64
        match = File.hash_value == prefix if exact else self._prefix(File.hash_value, prefix)
        return sa.and_(File.hash_value.is_not(None), match)

    def modified(self, start: date | None, end: date | None) -> ColumnElement[bool]:
        low = None if start is None else self._day_ns(start)
        high = None if end is None else self._day_ns(end) - 1
        return _between(File.mtime_ns, low, high)

    def _prefix(self, column: QueryableAttribute[Any], prefix: str) -> ColumnElement[bool]:
        if self.sqlite:
            # SQLite's LIKE is case-insensitive and so never uses a (BINARY) index; the
            # equivalent range does. Values here (MIME types, hex) are stored lower case.
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            return sa.and_(column >= prefix, column < upper)
        return column.like(escape_like(prefix) + "%", escape=LIKE_ESCAPE)

    def _day_ns(self, day: date) -> int:
        """Nanoseconds since the epoch at the start of ``day`` in the chosen time zone."""
        midnight = datetime.combine(day, time())
        aware = midnight.astimezone() if self.tz is None else midnight.replace(tzinfo=self.tz)
        nanoseconds = (aware - _EPOCH) // timedelta(microseconds=1) * 1000
        return min(max(nanoseconds, _INT64[0]), _INT64[1])


def _fts_expression(node: Node) -> str | None:
    """``node`` as an FTS5 query when it is made only of terms FTS5 can answer."""
    if isinstance(node, Term):
        return fts_phrase(node.text) if len(node.text) >= FTS_MIN_CHARS else None
    if isinstance(node, And | Or):
        parts = [_fts_expression(item) for item in node.items]
        if not all(parts):
            return None
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(p for p in parts if p) + ")"
    return None


def _fts_match(expression: str) -> ColumnElement[bool]:
    matching = sa.select(_FTS.c.rowid).where(
        sa.literal_column("files_fts").bool_op("MATCH")(sa.literal(expression))
    )
    return _FILES_ROWID.in_(matching)


def _literal_runs(glob: str) -> list[str]:
    runs: list[str] = []
    current: list[str] = []
    for char in glob:
        if char in "*?":
            runs.append("".join(current))
            current = []
        else:
            current.append(char)
    runs.append("".join(current))
    return [run for run in runs if run]


def _tagged(name: str) -> ColumnElement[bool]:
    """Files tagged ``name`` (any case) or any tag below it in the tag tree."""
    roots = sa.select(Tag.id).where(sa.func.lower(Tag.name) == sa.func.lower(sa.literal(name)))
    # nesting=True keeps each WITH inside its own subquery, so several tag: filters can
    # appear in one statement; UNION (not UNION ALL) ends the recursion even if the parent
    # links ever form a cycle.
    tree = roots.cte("tag_tree", recursive=True, nesting=True)
    tree = tree.union(sa.select(Tag.id).where(Tag.parent_id == tree.c.id))
    tagged = sa.select(FileTag.file_id).where(FileTag.tag_id.in_(sa.select(tree.c.id)))
    return File.id.in_(tagged)


def _between(
    column: QueryableAttribute[int], low: int | None, high: int | None
) -> ColumnElement[bool]:
    conditions = []
    if low is not None:
        conditions.append(column >= min(max(low, _INT64[0]), _INT64[1]))
    if high is not None:
        conditions.append(column <= min(max(high, _INT64[0]), _INT64[1]))
    return sa.and_(sa.true(), *conditions)
