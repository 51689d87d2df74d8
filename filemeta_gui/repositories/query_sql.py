"""Compile search queries (``domain.query`` ASTs) into SQLAlchemy conditions on ``File``.

The result is a plain boolean ``ColumnElement`` for ``FileRepository.page(where=...)`` and
friends; it never touches a session. The two backends search text differently, each
through an index (migration 0002):

* SQLite: terms of 3+ characters go to the FTS5 trigram table ``files_fts`` (external
  content keyed on ``files.rowid``) as quoted MATCH phrases. FTS5 trigram cannot match
  shorter terms, so those use ``LIKE ... ESCAPE`` (a full scan; ``LIKE`` never uses FTS).
  AND/OR of several long terms are merged into one MATCH so FTS5 intersects the posting
  lists itself instead of SQLite joining one subquery per word.
* PostgreSQL: ``ILIKE`` with an escaped pattern on ``file_path``, served by its ``pg_trgm``
  GIN index.

A word is looked for in the path only: the file name is part of it.

``path:`` globs are case-sensitive: ``GLOB`` on SQLite (a literal start reads a range of the
file_path index; a leading wildcard is narrowed through FTS), ``LIKE`` over the trigram
index on PostgreSQL.

``open_nodes`` (SQLite, from ``repositories.search_plan``): only the conditions of those
nodes may use an index; every other column is written ``+column``, so SQLite walks the
sort index and tests them entry by entry (inside the index where the sort indexes of
migration 0005 carry the column; words and tags against a set of ids built once) instead
of reading a big filter range and sorting it. Without it, every condition may use its
index; the rows selected are the same either way.

Every leaf is two-valued (never NULL), so ``NOT`` of any condition is its exact complement:
the only nullable column searched, ``hash_value``, is guarded with ``IS NOT NULL``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeGuard

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
from filemeta_gui.repositories.base import among_ids
from filemeta_gui.repositories.sqlite_hints import unindexed

LIKE_ESCAPE = "\\"
FTS_MIN_CHARS = 3
"""FTS5's trigram tokenizer finds nothing for shorter terms."""

_INT64 = (-(2**63), 2**63 - 1)
_INTO_ASCII = {"i": "\u0130", "k": "\u212a"}
"""The characters outside ASCII that lower-case to an ASCII letter, by that letter."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# ``files`` is a rowid table (its UUID key is not an INTEGER PRIMARY KEY); files_fts is
# keyed on that implicit rowid. Bound to the table so "files" joins the FROM list.
FILES_ROWID = sa.column("rowid", sa.Integer, _selectable=File.__table__)
FTS_TABLE = sa.table("files_fts", sa.column("rowid", sa.Integer))


def trigram_word(node: Node) -> TypeGuard[Term]:
    """A word a trigram index can look up (3 characters or more): FTS5's on SQLite,
    ``pg_trgm``'s on PostgreSQL."""
    return isinstance(node, Term) and len(node.text) >= FTS_MIN_CHARS


def rowids_where(condition: ColumnElement[bool]) -> sa.Select[Any]:
    """SQLite: the rowids of the files where ``condition`` holds, as a set of its own,
    inside a statement on ``files`` (``correlate(None)``: not a test of the outer row)."""
    return sa.select(FILES_ROWID).where(condition).correlate(None)


def read_as_union(items: Sequence[Node]) -> bool:
    """SQLite, counts and anchors (``compile_query``'s ``union_ors``): is an OR of
    ``items`` read as the union of each alternative's rows? When a word of 1-2
    characters, which no index answers, sits beside an alternative that is not one."""
    short = sum(isinstance(item, Term) and not trigram_word(item) for item in items)
    return 0 < short < len(items)


def search_condition(
    text: str, backend: Backend | str, *, tz: tzinfo | None = None
) -> ColumnElement[bool]:
    """Parse ``text`` and compile it (raises ``QuerySyntaxError`` when malformed)."""
    return compile_query(parse(text), backend, tz=tz)


def compile_query(
    node: Node,
    backend: Backend | str,
    *,
    tz: tzinfo | None = None,
    open_nodes: frozenset[int] | None = None,
    row_tests: frozenset[int] = frozenset(),
    tag_ids: Mapping[int, Sequence[uuid.UUID]] | None = None,
    words_per_row: bool = False,
    implied: frozenset[int] = frozenset(),
    union_ors: bool = False,
) -> ColumnElement[bool]:
    """A condition on ``File`` selecting exactly the files ``node`` describes.

    Args:
        node: a parsed query.
        backend: the dialect the condition will run on.
        tz: the time zone ``modified:`` dates are read in; None for the machine's local
            time (what a person typing a date means).
        open_nodes: on SQLite, ``id()`` of the nodes whose conditions may use an index
            (None: all of them). The rows selected are the same either way.
        row_tests: on SQLite, ``id()`` of tag filters to test per row (a correlated
            ``EXISTS``) rather than against the set of tagged ids.
        tag_ids: on PostgreSQL, the ids of a tag filter's tree (by the filter's ``id()``),
            read beforehand: given as values, they let the planner size the tagged files,
            where it cannot see through the recursive tree (``search_plan``).
        words_per_row: test words on each row's path as a walk meets it, for a walk
            that finds common words at once. SQLite: words of ASCII characters rather
            than against the set of FTS5 matches (:func:`_word_on_row`,
            ``keyset.window_then_walk``). PostgreSQL: words of ASCII characters fold case
            as the short ones do, which the trigram index cannot serve but which costs a
            walk half as much (``keyset.short_path_statement``).
        implied: ``id()`` of the nodes the statement answers another way, written as no
            condition: a type filter read as one walk per type
            (``search_plan.PagePlan.type_runs``).
        union_ors: on SQLite, an OR holding a word of 1-2 characters is the union of
            its alternatives' rows, each read its own way, for counts and anchors. A
            page rather walks the sort index and stops at its 201st match.
    """
    compiler = _Compiler(Backend(backend), tz, open_nodes)
    compiler.implied = implied
    compiler.fts = compiler.sqlite and not words_per_row
    compiler.walked_words = not compiler.sqlite and words_per_row
    compiler.row_tests = row_tests if compiler.sqlite else frozenset()
    compiler.tag_ids = {} if compiler.sqlite or tag_ids is None else tag_ids
    compiler.union_ors = compiler.sqlite and union_ors
    return compiler.compile(node)


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
    def __init__(self, backend: Backend, tz: tzinfo | None, open_nodes: frozenset[int] | None):
        self.sqlite = backend is Backend.SQLITE
        self.tz = tz
        self.open_nodes = open_nodes if self.sqlite else None
        self.fts = self.sqlite  # words through the FTS5 index (else per row)
        self.walked_words = False  # PostgreSQL: words tested per entry of a walk
        self.row_tests: frozenset[int] = frozenset()
        self.tag_ids: Mapping[int, Sequence[uuid.UUID]] = {}
        self.implied: frozenset[int] = frozenset()
        self.union_ors = False  # SQLite: see compile_query

    def compile(self, node: Node) -> ColumnElement[bool]:
        if id(node) in self.implied:
            return sa.true()
        match node:
            case MatchAll():
                return sa.true()
            case Term(text):
                return self.term(text, self._open(node))
            case And(items):
                return self.conjunction(items)
            case Or(items):
                return self.disjunction(node, items)
            case Not(TagFilter(name)) if not self.sqlite:
                # NOT EXISTS, an anti-join: PostgreSQL reads NOT IN (subquery) as a
                # subplan it cannot hash past work_mem and searches per row (at 1M
                # files, -tag:people on 96k files: 2.7 s against 2-12 ms).
                return sa.not_(_tagged_here(name))
            case Not(item):
                return sa.not_(self.compile(item))
            case TagFilter(name):
                if id(node) in self.row_tests:
                    return _tagged_here(name)
                if id(node) in self.tag_ids:
                    return _tagged_with(self.tag_ids[id(node)])
                return _tagged(name, self._open(node))
            case TypeFilter():
                return self.content_type(node)
            case ExtFilter(extensions):
                return self._column(node, File.extension).in_(_stored_extensions(extensions))
            case SizeFilter(minimum, maximum):
                return _between(self._column(node, File.file_size), minimum, maximum)
            case ModifiedFilter(start, end):
                return self.modified(node, start, end)
            case HashFilter(prefix):
                return self.hash_prefix(node, prefix)
            case PathFilter(glob):
                return self.path(glob, self._open(node))
        raise TypeError(f"not a query node: {node!r}")

    def _open(self, node: Node) -> bool:
        """May the condition of ``node`` be answered through an index?"""
        return self.open_nodes is None or id(node) in self.open_nodes

    def _column(self, node: Node, column: Any) -> Any:
        return column if self._open(node) else unindexed(column)

    # --- text -------------------------------------------------------------------------------

    def term(self, text: str, indexed: bool = True) -> ColumnElement[bool]:
        if self.sqlite and len(text) >= FTS_MIN_CHARS:
            if self.fts or not text.isascii():
                return _fts_match(fts_phrase(text), indexed)
            return _word_on_row(text, self._like(File.file_path, text))
        # The name is part of the path (``models.File.filename``), so a word found in the
        # name is found in the path: testing the path alone selects the same rows at half
        # the cost (at 1M files, a scan for a word in no file: 0.22 s against 0.11 s on
        # SQLite; 0.59 s against 0.41 s on PostgreSQL, whose ILIKE is the dearer part).
        return self._like(File.file_path, text)

    def path(self, glob: str, indexed: bool = True) -> ColumnElement[bool]:
        # Case-sensitive, as paths are: /data/Photos and /data/photos are two folders.
        if not self.sqlite:
            return File.file_path.like(glob_to_like(glob), escape=LIKE_ESCAPE)
        # GLOB is SQLite's case-sensitive LIKE; a literal start (a folder listing) is read
        # as a range of the unique index on file_path.
        path = File.file_path if indexed else unindexed(File.file_path)
        condition = path.bool_op("GLOB")(sqlite_glob(glob))
        if glob[:1] not in ("*", "?"):
            return condition
        # A leading wildcard defeats that index, but literal runs can narrow the rows
        # through the trigram index first (FTS ignores case, so it never loses a match).
        runs = [run for run in _literal_runs(glob) if len(run) >= FTS_MIN_CHARS]
        if not runs:
            return condition
        expression = " AND ".join(f"file_path : {fts_phrase(run)}" for run in runs)
        return sa.and_(_fts_match(expression, indexed), condition)

    def _like(self, column: QueryableAttribute[Any], text: str) -> ColumnElement[bool]:
        """``column`` contains ``text``, in any case (SQLite's LIKE folds ASCII only)."""
        literal = escape_like(text)
        # An ESCAPE clause costs SQLite a third more per row (1M rows: 0.14 s against
        # 0.10 s), so it is only written when the word holds a wildcard or the escape.
        escape = LIKE_ESCAPE if literal != text else None
        pattern = f"%{literal}%"
        # SQLite's LIKE ignores case itself; a word without letters ("20") has no case to
        # ignore, and PostgreSQL's ILIKE lower-cases every path it tests (1M paths: LIKE
        # 0.13 s, ILIKE 0.50 s).
        if self.sqlite or text.lower() == text.upper():
            return column.like(pattern, escape=escape)
        if (len(text) >= FTS_MIN_CHARS and not self.walked_words) or not text.isascii():
            return column.ilike(pattern, escape=escape)
        # Too short for the trigram index, or walked, so every path met is tested. Under
        # the "C" collation ILIKE folds ASCII only and skips the locale's conversion (a
        # word in no file at 1M files: 0.30 s against 0.40 s; ``img`` walked through 169k
        # entries of the name index: 66 ms against 120 ms). That is exact for an all-ASCII
        # path, and for any path unless the word holds an "i" or a "k": the only
        # characters outside ASCII whose lower case is in it are U+0130 (to "i") and
        # the Kelvin sign (to "k"), and lower() keeps every other character's length.
        in_c = column.collate("C")
        ascii_fold = in_c.ilike(pattern, escape=escape)
        outside = [_INTO_ASCII[letter] for letter in sorted(_INTO_ASCII.keys() & text.lower())]
        if not outside:
            return ascii_fold
        # Only a path holding one of them gets the locale's ILIKE too. A byte-wise LIKE
        # finds them, where counting every path's characters to spot those outside ASCII
        # cost more than the ILIKE itself (``img`` through 169k entries of the name index,
        # as one statement: 80 ms against 72, and 59 with ASCII folding alone).
        holds = sa.or_(*(in_c.like(f"%{char}%") for char in outside))
        return sa.or_(ascii_fold, sa.and_(holds, column.ilike(pattern, escape=escape)))

    # --- boolean structure ------------------------------------------------------------------

    def conjunction(self, items: tuple[Node, ...]) -> ColumnElement[bool]:
        if not self.fts:
            return sa.and_(*(self.compile(item) for item in items))
        wanted: list[str] = []
        excluded: list[tuple[Node, str]] = []
        rest: list[Node] = []
        indexed = False
        for item in items:
            if expression := fts_expression(item):
                wanted.append(expression)
                indexed = indexed or self._open(item)
            elif isinstance(item, Not) and (expression := fts_expression(item.item)):
                excluded.append((item, expression))
            else:
                rest.append(item)
        if not wanted:  # FTS5's NOT is binary ("a NOT b"): it needs something to subtract from
            return sa.and_(*(self.compile(item) for item in rest + [i for i, _ in excluded]))
        expression = " AND ".join(wanted)
        for _, subtracted in excluded:
            expression = f"({expression}) NOT {subtracted}"
        # The words of a group are asked as one MATCH: indexed if any of them may be.
        return sa.and_(_fts_match(expression, indexed), *(self.compile(item) for item in rest))

    def disjunction(self, node: Node, items: tuple[Node, ...]) -> ColumnElement[bool]:
        short = any(isinstance(item, Term) and not trigram_word(item) for item in items)
        if short and not self.sqlite and not self.walked_words:
            # No index answers a word of 1-2 characters, so PostgreSQL tests every path
            # against each alternative: the words among them are tested the way a walk
            # tests them, not in the locale's ILIKE. At 1M files, ``qz OR zanzibar``
            # took 527 ms, and ``qz`` alone 222 ms.
            self.walked_words = True
            try:
                return sa.or_(*(self.compile(item) for item in items))
            finally:
                self.walked_words = False
        merged = [e for e in map(fts_expression, items) if e] if self.fts else []
        conditions = [self.compile(item) for item in items if not (merged and fts_expression(item))]
        if merged:
            conditions.insert(0, _fts_match(" OR ".join(merged), self._open(node)))
        if self.union_ors and read_as_union(items):
            # The short word is tested on every row; so, in one OR, was every other
            # alternative: a tag's id set probed a million times. As a union, each
            # alternative reads its own rows (``tag:people OR qz`` at 1M files, count
            # 1.2 → 0.36 s, anchors 1.35 → 0.4 s).
            return FILES_ROWID.in_(sa.union(*map(rowids_where, conditions)))
        return sa.or_(*conditions)

    # --- filters ----------------------------------------------------------------------------

    def content_type(self, node: TypeFilter) -> ColumnElement[bool]:
        column = self._column(node, File.content_type)
        if not node.prefixes:
            return column == node.value
        return sa.or_(*(self._prefix(column, p) for p in node.prefixes))

    def hash_prefix(self, node: Node, prefix: str) -> ColumnElement[bool]:
        column = self._column(node, File.hash_value)
        if len(prefix) == 64:
            match = column == prefix
        else:
            # A range of the hash index on both backends. Not LIKE 'ab%': PostgreSQL
            # answers that from a B-tree only under the "C" collation, and elsewhere read
            # every row (134 ms at 1M files). Hex digits order alike under any collation.
            match = column >= prefix
            if (upper := next_hex_prefix(prefix)) is not None:
                match = sa.and_(match, column < upper)
        return sa.and_(File.hash_value.is_not(None), match)

    def modified(self, node: Node, start: date | None, end: date | None) -> ColumnElement[bool]:
        low = None if start is None else self._day_ns(start)
        high = None if end is None else self._day_ns(end) - 1
        return _between(self._column(node, File.mtime_ns), low, high)

    def _prefix(self, column: Any, prefix: str) -> ColumnElement[bool]:
        if self.sqlite:
            # SQLite's LIKE is case-insensitive and so never uses a (BINARY) index; the
            # equivalent range does. MIME types are stored lower case.
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            return sa.and_(column >= prefix, column < upper)
        return column.like(escape_like(prefix) + "%", escape=LIKE_ESCAPE)

    def _day_ns(self, day: date) -> int:
        """Nanoseconds since the epoch at the start of ``day`` in the chosen time zone."""
        midnight = datetime.combine(day, time())
        aware = midnight.astimezone() if self.tz is None else midnight.replace(tzinfo=self.tz)
        nanoseconds = (aware - _EPOCH) // timedelta(microseconds=1) * 1000
        return min(max(nanoseconds, _INT64[0]), _INT64[1])


_HEX = "0123456789abcdef"


def next_hex_prefix(prefix: str) -> str | None:
    """The least hex string above every string starting with ``prefix`` (lower-case hex);
    None when there is none (``prefix`` is all ``f``)."""
    digits = list(prefix)
    while digits:
        position = _HEX.index(digits[-1])
        if position < len(_HEX) - 1:
            digits[-1] = _HEX[position + 1]
            return "".join(digits)
        digits.pop()
    return None


def fts_expression(node: Node) -> str | None:
    """``node`` as an FTS5 query when it is made only of terms FTS5 can answer."""
    if isinstance(node, Term):
        return fts_phrase(node.text) if len(node.text) >= FTS_MIN_CHARS else None
    if isinstance(node, And | Or):
        parts = [fts_expression(item) for item in node.items]
        if not all(parts):
            return None
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(p for p in parts if p) + ")"
    return None


def fts_match_clause(expression: str) -> ColumnElement[bool]:
    """``files_fts MATCH :expression`` (a condition on ``FTS_TABLE``)."""
    return sa.literal_column("files_fts").bool_op("MATCH")(sa.literal(expression))


FTS_FOLDS_INTO_ASCII = {"k": "\u212a", "s": "\u017f"}
"""The characters outside ASCII that FTS5's trigram tokenizer folds into an ASCII letter
or digit (SQLite 3.40: the Kelvin sign into "k", the long s into "s"), by that letter. A
test holds this to the SQLite in use."""


def _word_on_row(text: str, on_path: ColumnElement[bool]) -> ColumnElement[bool]:
    """SQLite: exactly the rows FTS5 finds for the ASCII word ``text``, tested on the row.

    ``on_path`` (LIKE, which folds ASCII case only) finds the word wherever FTS5 does,
    but in a path holding a character FTS5 folds into one of the word's letters
    (``FTS_FOLDS_INTO_ASCII``). Such a path is asked of FTS5 itself; SQLite builds that set
    of matches only if it reaches such a row after LIKE has failed on it.
    """
    folded = sorted({FTS_FOLDS_INTO_ASCII[c] for c in text.lower() if c in FTS_FOLDS_INTO_ASCII})
    if not folded:
        return on_path
    holding = sa.or_(*(sa.func.instr(File.file_path, char) > 0 for char in folded))
    asked = _fts_match(fts_phrase(text), indexed=False)
    return sa.or_(on_path, sa.and_(holding, asked))


def _fts_match(expression: str, indexed: bool = True) -> ColumnElement[bool]:
    matching = sa.select(FTS_TABLE.c.rowid).where(fts_match_clause(expression))
    # Not indexed: SQLite builds the set of matching rowids once and tests each row of the
    # walked sort index against it (the rowid is in every index entry: no table read).
    rowid = FILES_ROWID if indexed else unindexed(FILES_ROWID)
    return rowid.in_(matching)


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


def tag_tree(name: str) -> sa.Select[Any]:
    """Ids of the tag ``name`` (any case) and of every tag below it in the tag tree."""
    roots = sa.select(Tag.id).where(sa.func.lower(Tag.name) == sa.func.lower(sa.literal(name)))
    # nesting=True keeps each WITH inside its own subquery, so several tag: filters can
    # appear in one statement; UNION (not UNION ALL) ends the recursion even if the parent
    # links ever form a cycle.
    tree = roots.cte("tag_tree", recursive=True, nesting=True)
    tree = tree.union(sa.select(Tag.id).where(Tag.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def _tagged(name: str, indexed: bool = True) -> ColumnElement[bool]:
    """Files tagged ``name`` or below it, as a set of ids (read through ``file_tags``).

    Not indexed: SQLite builds the id set once and tests each entry of the walked sort
    index against it (the id is in every entry: no table read).
    """
    tagged = sa.select(FileTag.file_id).where(FileTag.tag_id.in_(tag_tree(name)))
    return (File.id if indexed else unindexed(File.id)).in_(tagged)


def _tagged_with(tag_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """Files carrying any of ``tag_ids`` (PostgreSQL: one ``uuid[]`` parameter)."""
    carrying = among_ids(FileTag.tag_id, tag_ids, "postgresql")
    return File.id.in_(sa.select(FileTag.file_id).where(carrying))


def _tagged_here(name: str) -> ColumnElement[bool]:
    """The same files, asked per row: one probe of ``file_tags`` by ``file_id`` (the tag
    list tested as ``+tag_id``: otherwise SQLite seeks once per tag of the tree)."""
    link = sa.select(FileTag.file_id).where(
        FileTag.file_id == File.id, unindexed(FileTag.tag_id).in_(tag_tree(name))
    )
    return link.exists()


def _stored_extensions(extensions: tuple[str, ...]) -> list[str]:
    """``ext:jpg`` as stored: the indexer keeps the dot (``.jpg``); older rows may not."""
    return [form for ext in extensions for form in (f".{ext}", ext)]


def _between(column: Any, low: int | None, high: int | None) -> ColumnElement[bool]:
    conditions = []
    if low is not None:
        conditions.append(column >= min(max(low, _INT64[0]), _INT64[1]))
    if high is not None:
        conditions.append(column <= min(max(high, _INT64[0]), _INT64[1]))
    return sa.and_(sa.true(), *conditions)
