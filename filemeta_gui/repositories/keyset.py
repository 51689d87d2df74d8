"""The statements behind ``FileRepository.page``: one index range per page, in any order.

Each sort order has its index ``(column, id, content_type, extension, deleted_at)``
(migration 0005), and a page is the range of it after the cursor ``(value, id)``:
``(column, id) > (value, id)`` is a row-value comparison both backends read as one range.

Hash order: unhashed files (NULL) first, then by hash — the order of
``coalesce(hash_value, '')`` — read as two *sections*: ``hash_value IS NULL ORDER BY id``
(the partial ``ix_files_unhashed``) and ``hash_value IS NOT NULL ORDER BY hash_value, id``
(``ix_files_sort_hash_value``). NULL cannot sit in a row-value comparison, and an index on
the ``coalesce`` expression could not be reflected on SQLite (the indexer checks its
indexes by reflection). The cursor of an unhashed row is ``("", id)``: '' sorts before
every digest.

On PostgreSQL a filtered page first selects only the keys (the sort column and ``id``),
then the rows of those 201 ids: the key query can be an index-only scan that tests the
type and extension inside the index, where a plain index scan reads the table for each
entry it rejects (measured at 1M files: ``type:image`` by name 16 ms against 300 ms).
On SQLite, ``repositories.search_plan`` decides between walking the sort index and
seeking through a filter's index (``blind`` sections), and :func:`walk_then_scan` bounds
walks that must read the table for every entry. In folder order SQLite selects the keys
first too: the unique index on the path gives that order as well, and without statistics
SQLite walked it rather than the sort index, reading the table for every entry to test
the filters; asked for the keys alone, it takes the sort index, which then covers the
query (``ext:jpg`` by folder, Z to A, at 1M files: 1.0 s against 56 ms).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql import operators
from sqlalchemy.types import Integer

from filemeta_gui.db.models import SHORT_PATH_BYTES, File
from filemeta_gui.domain.enums import SortColumn
from filemeta_gui.domain.records import PageRequest
from filemeta_gui.repositories.base import json_values
from filemeta_gui.repositories.convert import FILE_COLUMNS
from filemeta_gui.repositories.sqlite_hints import unindexed

Cursor = tuple[object, Any]
Fetch = Callable[[Select[Any]], Awaitable[list[Any]]]
FirstKeys = Callable[[Select[Any]], Awaitable[tuple[object, ...] | None]]
WALK_WINDOWS = (10_000, 200_000)
"""Sort-index entries :func:`walk_then_scan` passes before it scans the table instead."""
PATH_CARRIED = frozenset({SortColumn.NAME, SortColumn.FOLDER})
"""Orders whose SQLite sort index holds the path (migration 0007; the folder order's key
is the path): a word is tested on it inside the index, ~0.3 µs an entry at 1M files,
where the other orders read each entry's table row (~2-4 µs). Walking such an index to
its end costs what scanning the table does, so a 1-2 character word is simply walked:
``20`` found its first 201 matches 94k entries down the name index in 32 ms, against
0.5 s through :func:`walk_then_scan`."""
SCAN_PROBE_CAP = 20_000
"""Matches :func:`walk_then_scan` looks up by rowid rather than scanning the table for."""
WORD_WINDOW = 1_000
"""Sort-index entries :func:`window_then_walk` tests on their rows first."""
WORD_WALK_MAX = 10_000
"""Entries :func:`window_then_walk` walks on testing rows, when the window's matches say
that is enough; beyond, the set of FTS5 matches is cheaper."""
_ROWID: ColumnElement[int] = literal_column("files.rowid", Integer).label("rowid")


@dataclass(frozen=True, slots=True)
class Section:
    """One index range: its own conditions and its order (columns, tie-break last)."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    order: list[ColumnElement[Any]] = field(default_factory=list)
    scope: list[ColumnElement[bool]] = field(default_factory=list)
    """The conditions that make the section (hashed or not), without the cursor's."""


def sections(key: ColumnElement[Any], request: PageRequest, blind: bool = False) -> list[Section]:
    """The ranges a page reads, in order, starting at the request's cursor.

    ``blind`` (SQLite): every column of the order written ``+column``, so no sort index
    is used: the page is found through a filter's index and sorted (``search_plan``'s
    "seek"). Without it SQLite walks the sort index anyway, testing the filter per row.
    """
    wrap = unindexed if blind else _same
    if request.sort is SortColumn.HASH:
        return _hash_sections(request, wrap(File.hash_value), wrap(File.id))
    descending, after = request.descending, request.after
    columns = (wrap(key), wrap(File.id))
    conditions = [] if after is None else [_after(columns, after, descending)]
    return [Section(conditions, _ordered(columns, descending))]


def statement(
    section: Section,
    where: Sequence[ColumnElement[bool]],
    limit: int,
    keys_first: bool = False,
    seek: bool = False,
) -> Select[Any]:
    """The rows of one section matching ``where``, at most ``limit``.

    Args:
        keys_first: select the keys of the page first, then its rows (PostgreSQL, and
            SQLite in folder order).
        seek: with ``keys_first``, read every match before sorting them (PostgreSQL):
            its planner assumes matches spread evenly through the sort order and would
            walk the sort index to find 201 of a few thousand that all sort late.
    """
    conditions = [*where, *section.conditions]
    if not keys_first:
        return select(*FILE_COLUMNS).where(*conditions).order_by(*section.order).limit(limit)
    # The order always ends with the id, so the keys are exactly the order's columns.
    keys_of = select(*(_bare(column) for column in section.order)).where(*conditions)
    if seek:
        matches = keys_of.cte("page_matches").prefix_with("MATERIALIZED")
        order = [_on(matches, column) for column in section.order]
        keys = select(*matches.c).order_by(*order).limit(limit).subquery("page_keys")
    else:
        keys = keys_of.order_by(*section.order).limit(limit).subquery("page_keys")
    return select(*FILE_COLUMNS).join(keys, File.id == keys.c.id).order_by(*section.order)


def short_path_statement(
    section: Section, where: Sequence[ColumnElement[bool]], limit: int
) -> Select[Any]:
    """The rows of a name-order section matching ``where``, walked through the partial
    indexes of migration 0008 (PostgreSQL): the one that carries every path of up to
    ``SHORT_PATH_BYTES``, so a word is tested inside it, and the one of the longer paths,
    read from the table.

    The length conditions are written as the indexes' predicates, so the planner can
    prove that each walk may use its index (a test holds the plan to it). At 1M files,
    the first 201 matches of ``img`` (the first 169k entries down) took 70 ms so, against
    0.52 s walking the plain name index and reading each entry's row.
    """
    length = func.octet_length(File.file_path)
    # A constant in the text, not a bound parameter: a plan made for any value (which
    # PostgreSQL may settle on for a prepared statement) could not use either index.
    bound = literal_column(str(SHORT_PATH_BYTES), Integer)
    return merged_walks(section, where, [length <= bound, length > bound], limit)


def type_runs_statement(
    section: Section, where: Sequence[ColumnElement[bool]], types: Sequence[str], limit: int
) -> Select[Any]:
    """The rows of a name-order section of live files matching ``where``, one of
    ``types``: a walk of ``ix_files_type_name`` (migration 0010) per type, each already in
    name order. At 1M files the first 201 videos (three types) took 0.3 ms so, where the
    name index holds them from 400k entries down (42-52 ms a page). (In type order the
    runs follow one another: ``FileRepository.page`` reads them in turn.)"""
    return merged_walks(section, where, [File.content_type == kind for kind in types], limit)


def merged_walks(
    section: Section,
    where: Sequence[ColumnElement[bool]],
    parts: Sequence[ColumnElement[bool]],
    limit: int,
) -> Select[Any]:
    """The rows of ``section`` matching ``where``, as the first ``limit`` keys of one walk
    per condition of ``parts`` (each a range of its own index, in the section's order),
    merged: a Merge Append on PostgreSQL, a merge of co-routines on SQLite."""
    order = [_bare(column) for column in section.order]
    walks = []
    for number, part in enumerate(parts):
        walk = select(*order).where(*where, *section.conditions, part)
        # Each walk a subquery of its own: SQLite takes no ORDER BY or LIMIT on the
        # members of a compound SELECT.
        ordered = walk.order_by(*section.order).limit(limit).subquery(f"walk_{number}")
        walks.append(select(*ordered.c))
    merged = union_all(*walks).subquery("page_walks")
    merged_order = [_on(merged, column) for column in section.order]
    keys = select(*merged.c).order_by(*merged_order).limit(limit).subquery("page_keys")
    return select(*FILE_COLUMNS).join(keys, File.id == keys.c.id).order_by(*section.order)


def _on(table: Any, ordered: Any) -> Any:
    """``ordered`` (``column.asc()``/``.desc()``) applied to ``table``'s same column."""
    column = table.c[_bare(ordered).name]
    return column.desc() if ordered.modifier is operators.desc_op else column.asc()


def window_edge(section: Section, size: int) -> Select[Any]:
    """The keys of the ``size``-th entry of the section, if any (binned files count too:
    testing ``deleted_at`` on each entry doubles the cost of passing 200k of them)."""
    columns = [_bare(column) for column in section.order]
    return (
        select(*columns)
        .where(*section.conditions)
        .order_by(*section.order)
        .offset(size - 1)
        .limit(1)
    )


def window_statement(
    section: Section, conditions: Sequence[ColumnElement[bool]], size: int, wanted: int
) -> Select[Any]:
    """The rows matching ``conditions`` among the next ``size`` entries of ``section``, at
    most ``wanted``, in one statement (SQLite).

    A subquery walks the window in order, ``LIMIT size``, and answers for each entry
    whether it matches; SQLite runs it as a co-routine that the outer query stops at the
    ``wanted``-th match. Only the entries' rowids and answers leave it, so an index that
    holds every column tested is walked without a table read. At 1M files, the first 201
    of ``img`` within 200k entries of the name index took 82 ms so, against 78 ms for an
    unbounded walk and 36 ms more to find the window's last entry first.
    """
    walked = (
        select(_ROWID.label("walked_rowid"), and_(*conditions).label("hit"))
        .select_from(File)
        .where(*section.conditions)
        .order_by(*section.order)
        .limit(size)
        .subquery("walked")
    )
    # No ORDER BY: SQLite reads a co-routine in the order it yields (tests hold it to it).
    hits = select(walked.c.walked_rowid).where(walked.c.hit).limit(wanted)
    return select(*FILE_COLUMNS).where(_ROWID.in_(hits)).order_by(*section.order)


async def walk_then_scan(
    fetch: Fetch,
    first_keys: FirstKeys,
    sections: Sequence[Section],
    base: Sequence[ColumnElement[bool]],
    where: Sequence[ColumnElement[bool]],
    wanted: int,
    descending: bool,
) -> list[Any]:
    """Up to ``wanted`` rows of ``sections``, read in turn, matching ``where`` (``base``:
    always true, the bin), for conditions SQLite can only test on the table row (words of
    1-2 characters, in the orders whose index does not hold the path: ``PATH_CARRIED``).

    Walks ``WALK_WINDOWS[0]`` entries of the sort index; if that found nothing, the
    matches are rare and the rest of the table is scanned and sorted instead; if it found
    some, walks ``WALK_WINDOWS[1]`` more first (matches cluster: "20" is rare among track
    numbers, then common among photos of 2019). Measured at 1M files: a word in no file
    took 1.5-2.5 s walked to the end, 0.25 s scanned.

    Before the scan, the matches' rowids are counted up to ``SCAN_PROBE_CAP``, reading an
    index when one holds every column tested (``ix_files_sort_file_path`` has the path
    and ``deleted_at``: a third of the table's bytes). Under the cap, only those rows are
    read and sorted. At 1M files, the page of a word in no file took 325 ms with the
    scan and 176 ms so. A word in half of them ends the probe after ~40k entries (7 ms)
    and is scanned as before: looking its 542k rows up by rowid took 1.1 s.

    The hash order has two sections, each bounded so; they share one count. Walked to
    their ends instead, ``qz`` (in no file) by hash took 2.0-2.3 s at 1M files.
    """
    conditions = [*base, *where]
    rows: list[Any] = []
    listed: ColumnElement[bool] | None = None
    counted = False  # the count is taken once, for every section
    for section in sections:
        found, beyond = await _bounded_walk(
            fetch, first_keys, section, conditions, wanted - len(rows), descending
        )
        rows += found
        if beyond is not None:
            if not counted:
                listed, counted = await listed_matches(first_keys, conditions), True
            if listed is not None:
                beyond = Section([*beyond.conditions, listed], beyond.order, beyond.scope)
            rows += await fetch(statement(beyond, conditions, wanted - len(rows)))
        if len(rows) >= wanted:
            break
    return rows


async def _bounded_walk(
    fetch: Fetch,
    first_keys: FirstKeys,
    section: Section,
    conditions: Sequence[ColumnElement[bool]],
    wanted: int,
    descending: bool,
) -> tuple[list[Any], Section | None]:
    """The matches in the ``WALK_WINDOWS`` of ``section``, and the rest of it to scan when
    they came up short (None: the page is full, or the whole section was walked)."""
    rows: list[Any] = []
    edge: Sequence[object] | None = None
    for size in WALK_WINDOWS:
        left = wanted - len(rows)
        found, edge = await _walk_window(fetch, first_keys, section, conditions, size, left)
        rows += found
        if edge is None:
            return rows, None
        if not rows:
            break
        section = _past(section, edge, descending, scan=False)
    assert edge is not None
    return rows, _past(section, edge, descending, scan=True)


async def listed_matches(
    first_keys: FirstKeys, where: Sequence[ColumnElement[bool]], cap: int | None = None
) -> ColumnElement[bool] | None:
    """``rowid IN (…)`` of every file matching ``where``, or None from ``cap`` matches on
    (SQLite; ``SCAN_PROBE_CAP`` unless given)."""
    cap = SCAN_PROBE_CAP if cap is None else cap
    matching = select(_ROWID).select_from(File).where(*where)
    capped = matching.limit(cap).subquery("probe")
    probe = select(func.count(), func.json_group_array(capped.c.rowid))
    # An aggregate: always one row. The rowids stay one JSON text, there and back.
    count, rowids = await first_keys(probe) or (cap, None)
    if isinstance(count, int) and count < cap:
        return _ROWID.in_(json_values(rowids))
    return None


async def window_then_walk(
    fetch: Fetch,
    first_keys: FirstKeys,
    section: Section,
    base: Sequence[ColumnElement[bool]],
    on_rows: Sequence[ColumnElement[bool]],
    where: Sequence[ColumnElement[bool]],
    wanted: int,
    descending: bool,
    window: tuple[int, int],
    seekable: Sequence[ColumnElement[bool]] = (),
) -> list[Any]:
    """Up to ``wanted`` rows of ``section`` matching ``where`` (SQLite, plain words).

    ``on_rows`` selects the same rows as ``where`` but tests each row of the walk
    (``compile_query(words_per_row=True)``), where ``where`` tests it against the set of
    the words' FTS5 matches, which SQLite builds first: ~130 ms for the 193k matches of
    ``img`` at 1M files, for every page. So the first ``window[0]`` entries are tested on
    their rows (``WORD_WINDOW``: ~4 µs each on the development machine, reading the
    table; far more where the index holds the path, ``search_plan.PATH_WALK_PER_MATCH``).
    If the matches found there, at the same density, say that at most ``window[1]`` more
    entries hold the rest, those are walked so too. Otherwise the walk goes on against
    the set: a word in 1% of the files (``beach``) pays for the window, ~4 ms.

    Given ``seekable`` instead (``where`` written so that the words' FTS5 matches are the
    way in, for words in few enough files: ``search_plan.PagePlan.whole_read``), the
    matches past the walk are read whole and sorted: the walk's windows said nothing of
    how far the rest are.
    """
    rows: list[Any] = []
    size, walk_max = window
    rest: Section | None = None  # past the walk, to read whole
    for _ in range(2):  # the window, then the stretch it vouches for
        found, edge = await _walk_window(
            fetch, first_keys, section, [*base, *on_rows], size, wanted - len(rows)
        )
        rows += found
        if edge is None:  # the page is full, or all of the section was tested
            return rows
        rest = _past(section, edge, descending, scan=True) if seekable else None
        section = _past(section, edge, descending, scan=False)
        if not rows:
            break
        # The rest at the density seen in the window, twice over for safety.
        size = (wanted - len(rows)) * window[0] // len(rows) * 2
        if size > walk_max:
            break
    if rest is not None:
        return rows + await fetch(statement(rest, [*base, *seekable], wanted - len(rows)))
    return rows + await fetch(statement(section, [*base, *where], wanted - len(rows)))


async def _walk_window(
    fetch: Fetch,
    first_keys: FirstKeys,
    section: Section,
    conditions: Sequence[ColumnElement[bool]],
    size: int,
    wanted: int,
) -> tuple[list[Any], Sequence[object] | None]:
    """Up to ``wanted`` rows matching ``conditions`` among the next ``size`` entries of
    ``section``, and the keys of the last of those entries, to walk on from. None when
    there is nothing to walk on to: the window held ``wanted`` matches, or the section
    ended inside it."""
    rows = await fetch(window_statement(section, conditions, size, wanted))
    if len(rows) >= wanted:
        return rows, None
    return rows, await first_keys(window_edge(section, size))


def _past(section: Section, edge: Sequence[object], descending: bool, scan: bool) -> Section:
    """The rows after ``edge``: walking on, or (``scan``) with the order's columns written
    ``+column`` so SQLite reads the table in storage order and sorts the matches."""
    columns = tuple(_bare(column) for column in section.order)
    if scan:
        columns = tuple(unindexed(column) for column in columns)
    after = _after(columns, edge, descending)  # past the edge is past the cursor too
    return Section([*section.scope, after], _ordered(columns, descending), section.scope)


def _hash_sections(request: PageRequest, hash_value: Any, file_id: Any) -> list[Section]:
    after, descending = request.after, request.descending
    in_unhashed = after is not None and after[0] in ("", None)
    unhashed_scope = [hash_value.is_(None)]
    unhashed = Section(
        unhashed_scope
        + ([_after((file_id,), (after[1],), descending)] if in_unhashed and after else []),
        _ordered((file_id,), descending),
        unhashed_scope,
    )
    hashed_scope: list[ColumnElement[bool]] = [hash_value.is_not(None)]
    hashed_conditions = list(hashed_scope)
    if after is not None and not in_unhashed:
        hashed_conditions.append(_after((hash_value, file_id), after, descending))
    hashed = Section(hashed_conditions, _ordered((hash_value, file_id), descending), hashed_scope)
    if descending:
        return [unhashed] if in_unhashed else [hashed, unhashed]
    return [unhashed, hashed] if after is None or in_unhashed else [hashed]


def _same(column: Any) -> Any:
    return column


def _ordered(columns: tuple[Any, ...], descending: bool) -> list[ColumnElement[Any]]:
    return [c.desc() if descending else c.asc() for c in columns]


def _bare(ordered: ColumnElement[Any]) -> Any:
    return ordered.element


def _after(
    columns: tuple[Any, ...], cursor: Sequence[object], descending: bool
) -> ColumnElement[bool]:
    # A row-value comparison, (key, id) > (value, id), is one index range on both backends.
    if len(columns) == 1:
        value = literal(cursor[0], columns[0].type)
        return columns[0] < value if descending else columns[0] > value
    position = tuple_(*columns)
    bound = tuple_(*(literal(v, c.type) for v, c in zip(cursor, columns, strict=True)))
    return position < bound if descending else position > bound
